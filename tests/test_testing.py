"""pinnkit.testing: each check passes on truth (exact solutions, a smooth MLP, a converging trainer) and catches
what is wrong (a sign error, a missing term, a wrong condition value, a wrong derivative engine or jet, a loss
that does not fall), with messages that name the term, the place and the numbers."""

from __future__ import annotations

import copy
import math
import re

import pytest
import torch

import pinnkit as pk
import pinnkit.geometry as G
from pinnkit.derivatives import ZCSDerivatives
from pinnkit.pde import Problem, equations
from pinnkit.pde.references import kovasznay_solution
from pinnkit.testing import (
    assert_conditions_hold,
    assert_derivatives_match,
    assert_residual_vanishes,
    check_convergence,
    finite_difference,
)
from tests.pde.test_equations import Solution

NU = 0.05
SPACE_TIME = G.Interval(-1, 1) * G.TimeDomain(0, 1)
KOVASZNAY = G.Rectangle([-0.5, -0.5], [1.0, 1.5])
RE = 20.0


def front(p):
    """Burgers travelling front: u = a - b tanh(b (x - a t) / (2 nu)) solves u_t + u u_x = nu u_xx."""
    return 0.3 - 0.5 * torch.tanh(0.5 * (p[:, 0] - 0.3 * p[:, 1]) / (2 * NU))


def heat_solution(p):
    """u = exp(-k pi^2 t) sin(pi x) solves u_t = k u_xx with u(0, t) = u(1, t) = 0, u(x, 0) = sin(pi x)."""
    return torch.exp(-0.3 * math.pi**2 * p[:, 1]) * torch.sin(math.pi * p[:, 0])


def kovasznay(x):
    return kovasznay_solution(x, RE)


def number_after(label: str, text: str) -> float:
    match = re.search(re.escape(label) + r"\s*(-?\d\.\d+e[+-]\d+)", text)
    assert match, (label, text)
    return float(match.group(1))


def mlp(inputs: int, outputs: int, seed: int = 0) -> pk.nets.MLP:
    torch.manual_seed(seed)
    return pk.nets.MLP(inputs, outputs, width=16, depth=2).double()


# ------------------------------------------------------------------------------------------- residuals
def test_residual_vanishes_on_exact_solutions_through_every_backend_that_can():
    report = assert_residual_vanishes(Problem(SPACE_TIME, equations.burgers(NU)), front, atol=1e-9)
    assert set(report) == {"autograd", "zcs", "stde"}  # a plain function has no jet: no "taylor"
    heat = Problem(G.Interval(0, 1) * G.TimeDomain(0, 1), equations.heat(0.3))
    assert max(assert_residual_vanishes(heat, heat_solution, atol=1e-9)["zcs"].values()) < 1e-9
    ns = Problem(KOVASZNAY, equations.navier_stokes(1 / RE), ("u", "v", "p"))
    report = assert_residual_vanishes(ns, kovasznay, atol=1e-11)
    assert list(report["autograd"]) == ["momentum_x", "momentum_y", "continuity"]


def test_a_net_with_a_jet_is_checked_by_taylor_too():
    """-Laplacian u = s with s the MLP's own Laplacian by autograd: the MLP is the exact solution, and the jet
    backend must agree with reverse mode on it. The float32 net is checked as a float64 copy, left as it was."""
    torch.manual_seed(0)
    net = pk.nets.MLP(2, 1, width=16, depth=2)
    exact = copy.deepcopy(net).double()

    def source(p):
        x = p.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(exact(x).sum(), x, create_graph=True)
        lap = sum(torch.autograd.grad(g[:, i].sum(), x, retain_graph=True)[0][:, i] for i in range(2))
        return -lap.detach()

    def normal_derivative(p):  # on the face x = 1: du/dn = u_x
        x = p.detach().clone().requires_grad_(True)
        return torch.autograd.grad(exact(x).sum(), x)[0][:, 0]

    square = G.Rectangle([0, 0], [1, 1])
    problem = Problem(square, equations.poisson(source), conditions=[
        pk.DirichletBC(value=lambda p: exact(p)[:, 0].detach(), n=16),
        pk.NeumannBC("right", value=normal_derivative, n=16)])
    report = assert_residual_vanishes(problem, net, atol=1e-12)
    assert set(report) == {"autograd", "zcs", "taylor", "stde"}
    report = assert_conditions_hold(problem, net, atol=1e-12)
    assert set(report) == {"autograd", "zcs", "taylor", "stde"} and set(report["taylor"]) == {"dirichlet_u_boundary",
                                                                                      "neumann_u_x_max"}
    assert set(assert_residual_vanishes(problem, exact, atol=1e-12, backends="taylor")) == {"taylor"}
    assert net.hidden[0].weight.dtype == torch.float32


def test_a_sign_error_is_caught_with_the_term_the_point_and_the_numbers():
    def wrong(f):  # u_t - u u_x - nu u_xx: the convection sign flipped
        return f.d("u", "t") - f.d("u") * f.d("u", "x") - NU * f.d("u", "x", "x")

    problem = Problem(SPACE_TIME, wrong)
    with pytest.raises(AssertionError) as info:
        assert_residual_vanishes(problem, front, atol=1e-9, backends="autograd")
    message = str(info.value)
    points = SPACE_TIME.sample_interior(64, "sobol", seed=0, dtype=torch.float64)
    r = problem.evaluator(Solution(front)).pde_residual(points)
    assert "PDE term 'pde' (backend 'autograd')" in message
    assert number_after("max |residual| =", message) == pytest.approx(float(r.abs().max()), rel=1e-3)
    assert number_after("RMS", message) == pytest.approx(float(r.square().mean().sqrt()), rel=1e-3)
    worst = points[int(r.abs().argmax())]
    assert f"worst at x={float(worst[0]):.6g}, t={float(worst[1]):.6g}, residual " in message
    assert "tolerance 1.000e-09 (atol 1e-09)" in message


def test_a_missing_term_is_caught_in_that_term_only():
    """Navier–Stokes without the pressure gradient in x: momentum_x fails, the other terms are not named."""
    full = equations.navier_stokes(1 / RE)

    def missing(f):
        terms = full(f)
        terms["momentum_x"] = terms["momentum_x"] - f.d("p", "x")
        return terms

    problem = Problem(KOVASZNAY, missing, ("u", "v", "p"))
    with pytest.raises(AssertionError, match="3 of 9 residual checks failed") as info:
        assert_residual_vanishes(problem, kovasznay, atol=1e-11)
    message = str(info.value)
    assert "'momentum_x' (backend 'autograd')" in message and "'momentum_x' (backend 'zcs')" in message
    assert "'momentum_x' (backend 'stde')" in message
    assert "momentum_y" not in message and "continuity" not in message
    assert re.search(r"worst at x=-?[\d.]+, y=-?[\d.]+", message)
    # the heat equation without its diffusion term
    heat = Problem(G.Interval(0, 1) * G.TimeDomain(0, 1), lambda f: f.d("u", "t"))
    with pytest.raises(AssertionError, match=r"PDE term 'pde' \(backend 'zcs'\): max \|residual\| = [1-9]"):
        assert_residual_vanishes(heat, heat_solution, backends=["zcs"])


def test_parameters_and_tolerances():
    problem = Problem(SPACE_TIME, equations.burgers(nu="nu"), parameters={"nu": NU})
    assert_residual_vanishes(problem, front, atol=1e-9)
    with pytest.raises(AssertionError, match="'pde'"):
        assert_residual_vanishes(problem, front, parameters={"nu": 2 * NU})
    with pytest.raises(ValueError, match=r"parameters: \['mu'\] are not PDE parameters"):
        assert_residual_vanishes(problem, front, parameters={"mu": 1.0})
    wrong = Problem(SPACE_TIME, lambda f: f.d("u", "t") + f.d("u") * f.d("u", "x"))  # no viscosity: O(1) residual
    with pytest.raises(AssertionError, match=r"atol 0 \+ rtol 1e-06 \* max \|u\|"):
        assert_residual_vanishes(wrong, front, atol=0, rtol=1e-6)
    assert_residual_vanishes(wrong, front, atol=100.0)


def test_backends_and_arguments_are_checked():
    problem = Problem(SPACE_TIME, equations.burgers(NU))
    with pytest.raises(ValueError, match="backend 'taylor': solution: Taylor-mode derivatives need a network"):
        assert_residual_vanishes(problem, front, backends="taylor")
    with pytest.raises(ValueError, match="backend must be one of"):
        assert_residual_vanishes(problem, front, backends="loop")
    with pytest.raises(ValueError, match="problem must be a pinnkit Problem"):
        assert_residual_vanishes(equations.burgers(NU), front)
    with pytest.raises(ValueError, match="solution must be a function"):
        assert_residual_vanishes(problem, 3.0)
    with pytest.raises(ValueError, match="points must be a positive integer"):
        assert_residual_vanishes(problem, front, points=0)
    with pytest.raises(ValueError, match="atol must be a non-negative"):
        assert_residual_vanishes(problem, front, atol=-1.0)
    with pytest.raises(ValueError, match="has no conditions"):
        assert_conditions_hold(problem, front)


# ------------------------------------------------------------------------------------------- conditions
def heat_problem(initial=lambda p: torch.sin(math.pi * p[:, 0])):
    return Problem(G.Interval(0, 1) * G.TimeDomain(0, 1), equations.heat(0.3),
                   conditions=[pk.InitialCondition(initial), pk.DirichletBC(value=0.0)])


def test_conditions_hold_on_exact_solutions():
    report = assert_conditions_hold(heat_problem(), heat_solution, atol=1e-12)
    assert set(report["autograd"]) == {"initial_u", "dirichlet_u_boundary"}
    convection = Problem(G.Interval(0, 2 * math.pi) * G.TimeDomain(0, 1), equations.convection(5.0),
                         conditions=[pk.PeriodicBC("x", orders=(0, 1))])
    assert_conditions_hold(convection, lambda p: torch.sin(p[:, 0] - 5 * p[:, 1]), atol=1e-12)
    ns = Problem(KOVASZNAY, equations.navier_stokes(1 / RE), ("u", "v", "p"),
                 conditions=[pk.DirichletBC(value=lambda x, j=j: kovasznay(x)[:, j], output=name)
                             for j, name in enumerate("uv")] + [pk.NeumannBC(
                                 "left", value=lambda x: -kovasznay_u_x(x), output="u")])
    assert_conditions_hold(ns, kovasznay, atol=1e-12)


def kovasznay_u_x(x):
    lam = 10 - math.sqrt(100 + 4 * math.pi**2)
    return -lam * torch.exp(lam * x[:, 0]) * torch.cos(2 * math.pi * x[:, 1])


def test_a_wrong_condition_value_is_caught_with_its_name_and_kind():
    problem = heat_problem(initial=lambda p: -torch.sin(math.pi * p[:, 0]))  # the sign of the initial value
    with pytest.raises(AssertionError) as info:
        assert_conditions_hold(problem, heat_solution, backends="zcs")
    message = str(info.value)
    assert message.startswith("condition 'initial_u' (initial, output 'u'; backend 'zcs'): max |residual| = ")
    assert number_after("max |residual| =", message) == pytest.approx(2.0, rel=1e-3)  # |2 sin(pi x)| near x = 1/2
    assert "t=0," in message and "dirichlet" not in message
    wrong_period = Problem(G.Interval(0, 2) * G.TimeDomain(0, 1), equations.convection(5.0),
                           conditions=[pk.PeriodicBC("x")])
    with pytest.raises(AssertionError, match=r"condition 'periodic_u_x' \(periodic, output 'u'; backend "
                                             r"'autograd'\).*worst at x=0, t="):
        assert_conditions_hold(wrong_period, lambda p: torch.sin(p[:, 0] - 5 * p[:, 1]), backends="autograd")


# ------------------------------------------------------------------------------------------- derivatives
def test_every_backend_matches_finite_differences_on_an_mlp():
    net = mlp(3, 2)
    x = torch.rand(24, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 - 1
    report = assert_derivatives_match(net, x, orders=3, names=("x", "y", "t"))
    assert set(report) == {"autograd", "zcs", "taylor", "stde"} and max(report.values()) < 1e-4
    assert_derivatives_match(net, x, orders=[("x", "x", "t", "t"), (1, 2)], names=("x", "y", "t"))
    assert_derivatives_match(copy.deepcopy(net).float(), x.float(), orders=2, backends=["taylor"])  # float64 copy
    with pytest.raises(ValueError, match=r"orders: 'z' in \('x', 'z'\) is not a coordinate"):
        assert_derivatives_match(net, x, orders=[("x", "z")], names=("x", "y", "t"))


def test_finite_differences_have_second_order_error():
    """Halving the step quarters the error of a central difference (exp(2x) sin(y): closed form)."""
    def fn(p):
        return (torch.exp(2 * p[:, 0]) * torch.sin(p[:, 1]))[:, None]

    x = torch.tensor([[0.3, 0.7]], dtype=torch.float64)
    exact = 4 * math.exp(0.6) * math.cos(0.7)  # d^3 / dx^2 dy
    errors = [abs(float(finite_difference(fn, x, (0, 0, 1), [h, h])) - exact) for h in (0.02, 0.01)]
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.02)


def test_a_wrong_engine_is_caught(monkeypatch):
    net = mlp(2, 1)
    x = torch.rand(16, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    compute = ZCSDerivatives._compute

    def off(self, output, alpha):
        value = compute(self, output, alpha)
        return value * 1.001 if alpha == (0, 1) else value

    monkeypatch.setattr(ZCSDerivatives, "_compute", off)
    with pytest.raises(AssertionError) as info:
        assert_derivatives_match(net, x, names=("x", "t"), outputs=("u",))
    message = str(info.value)
    assert message.startswith("backend 'zcs', output 'u', d/dx d/dt (multi-index (0, 1)): worst at x=")
    engine, fd = number_after("engine", message), number_after("finite differences", message)
    assert engine == pytest.approx(1.001 * fd, rel=1e-6) and "autograd" not in message
    assert re.search(r"\d+ of 16 points fail", message)


class WrongJet(pk.nets.MLP):
    """An MLP whose jet gets u_xx wrong by a constant."""

    def jet(self, x, multi_indices, compiled=None):
        jet = dict(super().jet(x, multi_indices, compiled))
        if (0, 0) in jet:
            jet[(0, 0)] = jet[(0, 0)] + 1e-3
        return jet


def test_a_wrong_jet_is_caught():
    torch.manual_seed(0)
    net = WrongJet(2, 1, width=16, depth=2).double()
    x = torch.rand(8, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    with pytest.raises(AssertionError) as info:
        assert_derivatives_match(net, x, orders=2)
    message = str(info.value)
    assert message.startswith("backend 'taylor', output '0', multi-index (0, 0): worst at x[0]=")
    assert number_after("|difference|", message) == pytest.approx(1e-3, rel=1e-3)
    assert "8 of 8 points fail" in message and "zcs" not in message


# ------------------------------------------------------------------------------------------- convergence
def poisson_trainer(lr: float = 1e-2) -> pk.Trainer:
    problem = Problem(G.Interval(0, 1), equations.poisson(lambda p: math.pi**2 * torch.sin(math.pi * p[:, 0]),
                                                          space=("x",)), conditions=[pk.DirichletBC(value=0.0, n=2)])
    torch.manual_seed(0)
    net = pk.nets.MLP(1, 1, width=16, depth=2)
    return pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(32), lr=lr, dtype=torch.float64)


def test_training_converges_and_a_flat_error_is_caught():
    trainer = poisson_trainer()
    xs = torch.linspace(0, 1, 50, dtype=torch.float64)[:, None]

    def l2(t):
        u = torch.as_tensor(t.predict(xs))[:, 0]
        exact = torch.sin(math.pi * xs[:, 0])
        return float((u - exact).norm() / exact.norm())

    curve = check_convergence(trainer, 400, error=l2, chunks=4, factor=5)
    assert [s for s, _ in curve] == [0, 100, 200, 300, 400] and curve[-1][1] < curve[0][1] / 5
    curve = check_convergence(poisson_trainer(), 300, chunks=3, factor=10)  # the default error: the loss
    assert len(curve) == 4
    with pytest.raises(AssertionError, match=r"did not fall by a factor 10 over 2 steps: 1.000e\+00 -> 1.000e\+00 "
                                             r"\(a factor 1\); curve \(step: error\) 0: 1.000e\+00, 1: 1.000e\+00"):
        check_convergence(poisson_trainer(), 2, error=lambda t: 1.0, chunks=2)
    with pytest.raises(ValueError, match="chunks must be at most steps"):
        check_convergence(poisson_trainer(), 2, chunks=3)
