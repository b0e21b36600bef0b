"""The Taylor-mode (jet) derivative engine of PINN problems against reverse mode, and its use in Problem/Trainer."""

import itertools
import math

import pytest
import torch

import pinnkit as pk
from pinnkit.derivatives import AutogradDerivatives, JetDerivatives


def multi_indices(dim, max_order):
    for order in range(1, max_order + 1):
        yield from itertools.combinations_with_replacement(range(dim), order)


def mlp(dim, outputs, activation="tanh", seed=0, bounds=True):
    torch.manual_seed(seed)
    box = [[-1.0] * dim, [2.0] * dim] if bounds else None
    return pk.nets.MLP(dim, outputs, width=16, depth=3, activation=activation, input_bounds=box).double()


@pytest.mark.parametrize("dim,outputs,activation", [(1, 1, "tanh"), (2, 1, "sin"), (3, 2, "tanh"),
                                                     (4, 2, "gelu")])
def test_every_multi_index_to_fourth_order_equals_reverse_mode(dim, outputs, activation):
    net = mlp(dim, outputs, activation, seed=dim)
    x = torch.rand(40, dim, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 3 - 1
    alphas = list(multi_indices(dim, 4 if dim <= 2 else 3))
    jet, auto = JetDerivatives(net, x, alphas), AutogradDerivatives(net, x)
    torch.testing.assert_close(jet.u, net(x), rtol=0, atol=0)
    for j in range(outputs):
        for alpha in alphas:
            torch.testing.assert_close(jet(j, alpha), auto(j, alpha), rtol=1e-11, atol=1e-11,
                                       msg=lambda m, a=alpha: f"alpha {a}: {m}")
    assert not jet.missed


def test_a_multi_index_not_announced_is_still_exact_and_reported():
    net = mlp(2, 1, seed=3, bounds=False)
    x = torch.rand(25, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    jet, auto = JetDerivatives(net, x, [(0,)]), AutogradDerivatives(net, x)
    torch.testing.assert_close(jet(0, (1, 0, 0)), auto(0, (0, 0, 1)), rtol=1e-11, atol=1e-11)
    torch.testing.assert_close(jet(0, (0,)), auto(0, (0,)), rtol=1e-12, atol=1e-12)
    assert jet.missed == {(0, 0, 1)}


def test_parameter_gradients_equal_reverse_mode():
    grads = {}
    for backend in ("autograd", "taylor"):
        net = mlp(2, 1, seed=5)
        x = torch.rand(30, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
        eng = pk.Backend(backend).engine(net, x, [(0,), (1,), (0, 0)])
        loss = (eng(0, (1,)) + eng(0) * eng(0, (0,)) - 0.01 * eng(0, (0, 0))).pow(2).mean()
        grads[backend] = torch.autograd.grad(loss, list(net.parameters()))
    for ga, gt in zip(grads["autograd"], grads["taylor"], strict=True):
        torch.testing.assert_close(gt, ga, rtol=1e-10, atol=1e-12)


def burgers_trainer(backend, compile=False, **kw):
    nu = 0.01 / math.pi
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    problem = pk.Problem(domain, lambda f: f.u_t + f.u * f.u_x - nu * f.u_xx, outputs="u", conditions=[
        pk.DirichletBC(domain.boundary, 0.0, n=40),
        pk.InitialCondition(lambda x: -torch.sin(math.pi * x[:, :1]), n=40)])
    torch.manual_seed(0)
    net = pk.nets.MLP(2, 1, width=12, depth=2, input_bounds=domain.bbox)
    backend = backend if compile is False else pk.Backend(backend, compile=compile)
    return pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(300, "sobol"), backend=backend,
                      dtype=torch.float64, **kw)


def test_problem_records_what_its_residual_asks_for():
    trainer = burgers_trainer("autograd")
    assert trainer.problem.residual_alphas == trainer.evaluator.alphas == {(0,), (1,), (0, 0)}


def assert_trains_alike(reference, other, steps, rtol):
    """Equal loss terms at the start, and parameters equal to ``rtol`` after ``steps`` Adam steps."""
    for k, v in other.losses()[1].items():
        torch.testing.assert_close(v, reference.losses()[1][k], rtol=1e-12, atol=1e-14)
    reference.fit(steps, progress=False)
    other.fit(steps, progress=False)
    for p, q in zip(reference.net.parameters(), other.net.parameters(), strict=True):
        torch.testing.assert_close(q, p, rtol=rtol, atol=rtol / 100)


def test_taylor_training_follows_reverse_mode_training():
    assert_trains_alike(burgers_trainer("autograd"), burgers_trainer("taylor"), 30, 1e-9)


def test_a_derivative_only_a_condition_needs_is_learned_after_the_first_pass():
    """u_xx = u with a Neumann condition: the normal derivative on y = const edges needs d/dy, which the
    residual never asks for; the engine answers it anyway and the problem propagates it from then on."""
    domain = pk.geometry.Rectangle((0, 0), (1, 1))
    problem = pk.Problem(domain, lambda f: f.u_xx - f.u, conditions=[pk.NeumannBC(domain.boundary, 1.0, n=40)])
    assert (1,) not in problem.residual_alphas and (0, 0) in problem.residual_alphas
    torch.manual_seed(0)
    net = pk.nets.MLP(2, 1, width=8, depth=2).double()
    results = {}
    for backend in ("autograd", "taylor"):
        trainer = pk.Trainer(problem, net, backend=backend, dtype=torch.float64,
                             sampler=pk.sampling.FixedPoints(50, "sobol"))
        results[backend] = trainer.losses()[1]
    assert (1,) in trainer.evaluator.alphas  # learnt by the taylor trainer's evaluator; the problem is unchanged
    assert (1,) not in problem.residual_alphas
    for k, v in results["taylor"].items():
        torch.testing.assert_close(v, results["autograd"][k], rtol=1e-12, atol=1e-14)


def test_bad_settings_are_refused_at_construction():
    with pytest.raises(ValueError, match="backend 'taylor': net: Taylor-mode derivatives need a network with "
                                         "a jet"):
        domain = pk.geometry.Interval(0, 1)
        pk.Trainer(pk.Problem(domain, lambda f: f.u_xx), torch.nn.Sequential(torch.nn.Linear(1, 1)),
                   backend="taylor")
    with pytest.raises(ValueError, match="compile=True needs backend 'taylor'.*got 'autograd'"):
        burgers_trainer("autograd", compile=True)
    with pytest.raises(ValueError, match="compile must be True or False"):
        burgers_trainer("taylor", compile="yes")
    with pytest.raises(ValueError,
                       match=r"backend must be one of \('autograd', 'zcs', 'taylor', 'stde'\) for a pinn problem"):
        burgers_trainer("loop")
    with pytest.raises(ValueError, match="backend must be a name"):
        burgers_trainer(3)


def test_compiled_jet_gives_the_eager_losses_and_steps():
    """``compile=True`` (torch.compile of the jet pass): the same losses and the same first steps, float64."""
    assert_trains_alike(burgers_trainer("taylor"), burgers_trainer("taylor", compile=True), 5, 1e-10)


@pytest.mark.parametrize("particular", ["formula", "number"])
def test_hard_constraint_jet_equals_reverse_mode_to_fourth_order(particular):
    """u = g + d N (Leibniz rule on jets of g and d from reverse mode) against reverse mode through the module."""
    names = ("x", "t")
    g = pk.nets.Expression("-sin(pi*x) + 0.3*t*x", names) if particular == "formula" else 0.25
    net = pk.nets.HardConstraint(mlp(2, 2, seed=11), g, pk.nets.Expression("t*(1 - x**2)", names))
    x = torch.rand(30, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 2 - 1
    alphas = list(multi_indices(2, 4))
    jet, auto = JetDerivatives(net, x, alphas), AutogradDerivatives(net, x)
    torch.testing.assert_close(jet.u, net(x), rtol=1e-14, atol=1e-14)
    for j in range(2):
        for alpha in alphas:
            torch.testing.assert_close(jet(j, alpha), auto(j, alpha), rtol=1e-10, atol=1e-10,
                                       msg=lambda m, a=alpha: f"alpha {a}: {m}")


def test_hard_constrained_burgers_trains_like_reverse_mode_also_compiled():
    nu = 0.01 / math.pi
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    params = {}
    for backend, compile in (("autograd", False), ("taylor", False), ("taylor", True)):
        problem = pk.Problem(domain, lambda f: f.u_t + f.u * f.u_x - nu * f.u_xx)
        torch.manual_seed(0)
        net = pk.nets.HardConstraint(pk.nets.MLP(2, 1, width=10, depth=2, input_bounds=domain.bbox),
                                     pk.nets.Expression("-sin(pi*x)", domain.names),
                                     pk.nets.Expression("t*(1 - x**2)", domain.names))
        trainer = pk.Trainer(problem, net, backend=pk.Backend(backend, compile=compile), dtype=torch.float64,
                             sampler=pk.sampling.RAD(200, period=3))
        trainer.fit(8, progress=False)
        params[(backend, compile)] = [p.detach().clone() for p in net.parameters()]
    for key in (("taylor", False), ("taylor", True)):
        for p, q in zip(params[("autograd", False)], params[key], strict=True):
            torch.testing.assert_close(q, p, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("activation", ["tanh", "sin"])
def test_the_jet_pass_traces_as_one_graph(activation):
    """``compile=True`` is only worth it if Dynamo sees the whole jet pass as one graph (a break splits the fused
    kernels; numpy helpers and generator arguments caused such breaks before)."""
    from pinnkit.nets.taylor_mode import mlp_jet

    net = mlp(2, 1, activation, seed=1)
    x = torch.rand(16, 2, dtype=torch.float64)
    explanation = torch._dynamo.explain(lambda p: mlp_jet(net, p, [(0,), (1,), (0, 0), (0, 1)]))(x)
    assert explanation.graph_count == 1 and explanation.graph_break_count == 0, explanation.break_reasons
