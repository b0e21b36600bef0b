"""OperatorProblem and OperatorTrainer: residuals vanish for the exact operator, the three derivative backends
agree, conditions hold per function, training lowers the loss and resumes exactly, errors are clear."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import pinnkit as pk
from pinnkit.functions import PowerSeries
from pinnkit.pde.operator_problem import InputBatch

TERMS = 4


class ExactAntiderivative(nn.Module):
    """The exact operator v -> int_0^x v for cubic polynomials v, read from 5 sensors: the coefficients c solve
    the Vandermonde system at the sensors, and u(x) = sum_k c_k x^(k+1) / (k+1)."""

    def __init__(self, sensors: torch.Tensor):
        super().__init__()
        self.vandermonde = torch.vander(sensors, TERMS, increasing=True)

    def forward(self, v, x):
        c = torch.linalg.lstsq(self.vandermonde.to(v), v.T).solution.T  # (M, TERMS)
        k = torch.arange(TERMS, dtype=x.dtype)
        powers = x[..., :1] ** (k + 1) / (k + 1)  # (N, TERMS) or (M, N, TERMS)
        u = torch.einsum("mk,nk->mn", c, powers) if x.ndim == 2 else torch.einsum("mk,mnk->mn", c, powers)
        return u[..., None]


def antiderivative_problem():
    domain = pk.geometry.Interval(0, 1)
    sensors = np.linspace(0, 1, 5)
    return pk.OperatorProblem(domain, lambda f: f.u_x - f.v, PowerSeries(TERMS, interval=(0, 1)), sensors,
                              conditions=[pk.DirichletBC("left", 0.0, n=1)])


@pytest.mark.parametrize("backend", [b for b in pk.derivatives.backend_names("operator")
                                     if b != "taylor"])  # taylor: DeepONets
def test_residuals_vanish_for_the_exact_operator(backend):
    problem = antiderivative_problem()
    net = ExactAntiderivative(problem.sensors)
    points = problem.domain.sample_interior(30, "sobol", seed=0, dtype=torch.float64)
    batch = problem.batch(points, problem.sample_conditions(0))
    inputs = problem.inputs(problem.space.sample(6, seed=0), batch.points)
    res = problem.evaluator(net, backend).residuals(batch, inputs)
    (condition,) = problem.conditions
    assert res["pde"].shape == (6, 30) and res[condition.name].shape == (6, 1)
    assert float(res["pde"].detach().abs().max()) < 1e-10
    assert float(res[condition.name].detach().abs().max()) < 1e-12
    assert float(inputs.values.abs().max()) > 0.1  # the functions are not trivially zero


def diffusion_reaction_problem(k_param: bool = False):
    domain = pk.geometry.Interval(0, 1) * pk.geometry.TimeDomain(0, 1)

    def residual(f):
        k = f.k if k_param else 0.01
        return {"pde": f.u_t - 0.01 * f.u_xx + k * f.u**2 - f.v, "mixed": f.u_xt + f.x * f.u_x}

    return pk.OperatorProblem(
        domain, residual, pk.functions.GaussianRandomField(0.2, method="spectral"), np.linspace(0, 1, 10),
        parameters={"k": 0.01} if k_param else None,
        conditions=[pk.DirichletBC(domain.boundary, 0.0, n=12), pk.InitialCondition(lambda x: x[:, 0], n=8),
                    pk.NeumannBC("right", 1.0, n=5)])


def test_backends_agree_in_float64():
    torch.manual_seed(0)
    problem = diffusion_reaction_problem(k_param=True)
    net = pk.nets.DeepONet([10, 16, 16], [2, 16, 16]).double()
    points = problem.domain.sample_interior(40, "sobol", seed=1, dtype=torch.float64)
    batch = problem.batch(points, problem.sample_conditions(0))
    inputs = problem.inputs(problem.space.sample(4, seed=2), batch.points)
    results = {b: problem.evaluator(net, b).residuals(batch, inputs) for b in pk.derivatives.backend_names("operator")}
    assert set(results["zcs"]) == {"pde", "mixed", "dirichlet_u_boundary", "initial_u", "neumann_u_x_max"}
    for name, value in results["loop"].items():
        for backend in ("zcs", "replicated", "taylor"):
            torch.testing.assert_close(results[backend][name], value, rtol=0, atol=1e-12)
    # conditions hold per function: the initial-condition residual is u(x, 0) - x for every function
    rows = batch.slices["initial_u"]
    with torch.no_grad():
        u0 = net(inputs.sensors, batch.points[rows])[..., 0]
    torch.testing.assert_close(results["zcs"]["initial_u"], u0 - batch.points[rows, 0], rtol=0, atol=1e-14)
    # the loss gradient (net and PDE parameter) is the same through ZCS and the loop
    grads = {}
    k = torch.tensor(problem.parameters["k"], dtype=torch.float64, requires_grad=True)
    for backend in ("zcs", "loop"):
        evaluator = problem.evaluator(net, backend, {"k": k})
        loss = sum(r.square().mean() for r in evaluator.residuals(batch, inputs).values())
        grads[backend] = torch.autograd.grad(loss, [*net.parameters(), k])
    for a, b in zip(grads["zcs"], grads["loop"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_trainer_lowers_the_loss_and_resumes_exactly(tmp_path):
    def trainer():
        torch.manual_seed(0)
        problem = antiderivative_problem()
        net = pk.nets.DeepONet([5, 16, 16], [1, 16, 16])
        return pk.OperatorTrainer(problem, net, functions=20, batch_size=6, lr=3e-3,
                                  sampler=pk.sampling.Resample(16, every=3), seed=4)

    straight = trainer()
    pool = np.arange(20)
    before = float(straight.losses(pool)[0])
    history = straight.fit(40, progress=False, log_every=10)
    assert [r["step"] for r in history] == [10, 20, 30, 40]
    assert float(straight.losses(pool)[0]) < 0.5 * before
    first = trainer()
    first.fit(17, progress=False)
    first.save(tmp_path / "state.pt")
    resumed = trainer()
    resumed.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True))
    resumed.fit(23, progress=False)
    for a, b in zip(straight.net.parameters(), resumed.net.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    features = straight.problem.space.sample(3, seed=9)
    prediction = straight.predict(features, np.linspace(0, 1, 7)[:, None])
    assert prediction.shape == (3, 7, 1) and prediction.dtype == np.float64


def test_construction_errors():
    domain = pk.geometry.Interval(0, 1)
    space = PowerSeries(3, interval=(0, 1))
    ok = dict(domain=domain, residual=lambda f: f.u_x - f.v, space=space, sensors=np.linspace(0, 1, 4))
    with pytest.raises(ValueError, match="space must be a pinnkit.functions space"):
        pk.OperatorProblem(**{**ok, "space": object()})
    with pytest.raises(ValueError, match=r"sensors must lie in the function space's interval \[0.0, 1.0\]"):
        pk.OperatorProblem(**{**ok, "sensors": [0.0, 2.0]})
    with pytest.raises(ValueError, match="uses a name the problem does not have"):
        pk.OperatorProblem(**{**ok, "residual": lambda f: f.u_x - f.w})
    with pytest.raises(ValueError, match="ObservedData is not supported"):
        pk.OperatorProblem(**ok, conditions=[pk.ObservedData([[0.5]], [1.0])])
    with pytest.raises(ValueError, match="input_coordinate must be one of"):
        pk.OperatorProblem(**ok, input_coordinate="t")
    with pytest.raises(ValueError, match="must be distinct"):
        pk.OperatorProblem(**ok, input="x")
    with pytest.raises(ValueError, match=r"must have shape \(M, N\)"):
        pk.OperatorProblem(**{**ok, "residual": lambda f: f.u_x[0]})
    problem = pk.OperatorProblem(**ok)
    with pytest.raises(ValueError, match="must map sensor values"):
        pk.OperatorTrainer(problem, pk.nets.MLP(1, 1))
    net = pk.nets.DeepONet([4, 8, 8], [1, 8, 8])
    with pytest.raises(ValueError, match="backend must be one of"):
        pk.OperatorTrainer(problem, net, backend="forward")
    with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, 10\]"):
        pk.OperatorTrainer(problem, net, functions=10, batch_size=11)
    with pytest.raises(ValueError, match="sampler must be FixedPoints or Resample"):
        pk.OperatorTrainer(problem, net, sampler=pk.sampling.R3(50), functions=4)
    with pytest.raises(ValueError, match="need the input functions"):
        problem.evaluator(net).residuals(problem.batch(torch.rand(3, 1), problem.sample_conditions(0)), None)
    assert isinstance(problem.inputs(space.sample(2, seed=0), torch.rand(3, 1)), InputBatch)
