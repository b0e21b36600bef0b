"""The checks of the course exercises, built on :mod:`pinnkit.testing`.

Each ``check_<n>(module)`` takes the module of a solution to exercise ``n`` (the starter file once filled in)
and raises ``AssertionError`` saying what is wrong, or returns a short report. The checks know the exact
solutions and test properties, never the code: any correct solution passes. ``run(n, path)`` loads a file and
runs its check; ``check.py`` and the ``test_exercise_<n>.py`` files call it.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

import torch

import pinnkit as pk
from pinnkit.testing import (
    assert_conditions_hold,
    assert_derivatives_match,
    assert_residual_vanishes,
    check_convergence,
)

HERE = Path(__file__).resolve().parent
EXERCISES = tuple(range(1, 7))
#: Training steps of exercise 6 (the starter's STEPS; fixed here so that changing it there does not help).
STEPS_6 = 300


def _fails(check, *args, **kwargs) -> bool:
    """Whether a pinnkit.testing check raises AssertionError (used to make sure a wrong answer is caught)."""
    try:
        check(*args, **kwargs)
    except AssertionError:
        return True
    return False


def check_1(m: ModuleType) -> str:
    problem = m.build_problem()
    worst = assert_residual_vanishes(problem, m.exact, atol=1e-8)
    assert_conditions_hold(problem, m.exact, atol=1e-10)

    def wrong(x):  # the initial and boundary values, decaying at the wrong rate
        return torch.exp(-2 * m.KAPPA * math.pi**2 * x[:, 1]) * torch.sin(math.pi * x[:, 0])

    assert _fails(assert_residual_vanishes, problem, wrong, atol=1e-3), \
        "the residual vanishes for a function that does not solve the heat equation: is it u_t - KAPPA u_xx?"
    return f"residual of your exact solution: {worst}"


def _poisson_exact(x):
    return torch.sin(math.pi * x[:, 0]) * torch.sin(math.pi * x[:, 1]) + x[:, 0] * x[:, 1]


def check_2(m: ModuleType) -> str:
    problem = m.build_problem()
    assert problem.outputs == ("u",), f"the output must be named 'u'; got {problem.outputs}"
    assert_residual_vanishes(problem, _poisson_exact, atol=1e-8)
    assert_conditions_hold(problem, _poisson_exact, atol=1e-10)
    bump = lambda x: _poisson_exact(x) + 0.1 * x[:, 0] * (1 - x[:, 0]) * x[:, 1] * (1 - x[:, 1])  # noqa: E731
    assert _fails(assert_residual_vanishes, problem, bump, atol=1e-3), \
        "the residual vanishes for a function that does not solve the equation: check the source term and sign"
    for k, (name, shifted) in enumerate((("x = 0", lambda x: _poisson_exact(x) + 0.1 * (1 - x[:, 0])),
                                         ("x = 1", lambda x: _poisson_exact(x) + 0.1 * x[:, 0]),
                                         ("y = 0", lambda x: _poisson_exact(x) + 0.1 * (1 - x[:, 1])),
                                         ("y = 1", lambda x: _poisson_exact(x) + 0.1 * x[:, 1]))):
        assert _fails(assert_conditions_hold, problem, shifted, atol=1e-3), \
            f"a function with wrong values on the side {name} satisfies your conditions: cover the whole boundary"
        del k
    return f"{len(problem.conditions)} condition(s) on the boundary, residual and values hold"


def _ode_exact(x):
    return x[:, 0] ** 3 - 2 * x[:, 0] + 1


def check_3(m: ModuleType) -> str:
    for name in ("neumann_problem", "robin_problem"):
        problem = getattr(m, name)()
        kinds = sorted(type(c).__name__ for c in problem.conditions)
        want = sorted(["DirichletBC", "NeumannBC" if name == "neumann_problem" else "RobinBC"])
        assert kinds == want, f"{name}: the conditions should be {want}; got {kinds}"
        assert_residual_vanishes(problem, _ode_exact, atol=1e-9)
        assert_conditions_hold(problem, _ode_exact, atol=1e-10)
        for wrong in (lambda x: _ode_exact(x) + 0.1, lambda x: _ode_exact(x) + 0.1 * x[:, 0]):
            assert _fails(assert_conditions_hold, problem, wrong, atol=1e-3), \
                f"{name}: another solution of u'' = 6x also satisfies your conditions; they must fix a and b"
    return "both problems select u = x^3 - 2x + 1"


def check_4(m: ModuleType) -> str:
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    problem = pk.Problem(domain, lambda f: f.u_t + f.u * f.u_x - 0.01 / math.pi * f.u_xx, conditions=[
        pk.DirichletBC(domain.boundary, 0.0), pk.InitialCondition(lambda x: -torch.sin(math.pi * x[:, :1]))])
    outputs = []
    points = domain.sample_interior(32, "sobol", seed=3, dtype=torch.float64)
    for seed in (0, 1):
        torch.manual_seed(seed)
        net = m.constrained(pk.nets.MLP(2, 1, width=8, depth=2)).double()
        assert isinstance(net, pk.nets.HardConstraint), f"return a pk.nets.HardConstraint; got {type(net).__name__}"
        assert_conditions_hold(problem, net, atol=1e-12)
        with torch.no_grad():
            outputs.append(net(points))
    assert float((outputs[0] - outputs[1]).abs().max()) > 1e-6, \
        "the output does not depend on the inner network inside the domain: d must be nonzero there"
    try:
        spec = pk.nets.net_spec(net)
        rebuilt = pk.nets.build_net(spec["class"], spec["config"])
    except ValueError as error:
        raise AssertionError(f"a checkpoint could not rebuild this network ({error}): write g and d as "
                             "pk.nets.Expression formulas") from error
    assert isinstance(rebuilt, pk.nets.HardConstraint)
    return "the conditions hold exactly for two random inner networks, and a checkpoint can rebuild it"


def check_5(m: ModuleType) -> str:
    torch.manual_seed(0)
    net = m.PeriodicNet().double()
    x = torch.linspace(0.1, 6.0, 17, dtype=torch.float64)[:, None]
    with torch.no_grad():
        out, shifted = net(x), net(x + 2 * math.pi)
    assert out.shape == (17, 1), f"PeriodicNet must map (N, 1) to (N, 1); got {tuple(out.shape)}"
    gap = float((out - shifted).abs().max())
    assert gap < 1e-12, f"net(x + 2 pi) differs from net(x) by up to {gap:.2e}: not periodic"
    worst = assert_derivatives_match(net, x, orders=3, names=("x",))
    return f"periodic to {gap:.1e}; derivatives match finite differences (largest difference {worst})"


def check_6(m: ModuleType) -> str:
    trainer = m.make_trainer()
    assert isinstance(trainer, pk.Trainer), f"make_trainer must return a pk.Trainer; got {type(trainer).__name__}"
    x = torch.linspace(-1, 1, 101, dtype=torch.float64)[:, None]
    exact = torch.sin(math.pi * x[:, 0]).numpy()

    def error(tr):
        return pk.metrics.l2_relative_error(tr.predict(x)[:, 0], exact)

    curve = check_convergence(trainer, STEPS_6, error=error, factor=1000.0, **m.FIT_OPTIONS)
    final = curve[-1][1]
    assert final < 1e-4, f"the error fell by a factor {curve[0][1] / final:.0f} but ends at {final:.2e} > 1e-4"
    return f"relative L2 error {curve[0][1]:.2e} -> {final:.2e} in {curve[-1][0]} steps"


CHECKS = {n: globals()[f"check_{n}"] for n in EXERCISES}


def load(path: str | Path) -> ModuleType:
    """The module of a solution file."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"solution_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(n: int, path: str | Path | None = None) -> str:
    """Check exercise ``n`` against the file ``path`` (default: the starter file ``exercise_<n>.py`` here).
    A function still marked TODO is an ``AssertionError`` that says so."""
    if n not in CHECKS:
        raise ValueError(f"no exercise {n}; the exercises are {EXERCISES}")
    path = HERE / f"exercise_{n}.py" if path is None else Path(path)
    try:
        return CHECKS[n](load(path))
    except NotImplementedError as error:
        raise AssertionError(f"exercise {n} is not finished: {error}") from error
