"""Navier–Stokes residual factories: they vanish on exact solutions (through both derivative engines) and on
nothing else, coefficients may be trainable, and bad arguments are refused at construction."""

from __future__ import annotations

import math

import pytest
import torch

import pinnkit.geometry as G
from pinnkit.pde import Problem, equations
from pinnkit.pde.references.beltrami import beltrami_solution
from pinnkit.pde.references.kovasznay import kovasznay_lambda, kovasznay_solution
from pinnkit.pde.references.taylor_green import taylor_green_solution
from pinnkit.testing import assert_residual_vanishes

RE = 20.0
NU_TG, K_TG, DRIFT = 0.05, math.pi, (0.7, -0.4)


class Solution(torch.nn.Module):
    """A closed-form solution as a 'network' for the derivative engine."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def residuals(problem: Problem, fn, n: int = 48, backend: str = "autograd") -> dict[str, torch.Tensor]:
    points = problem.domain.sample_interior(n, seed=1, dtype=torch.float64)
    return problem.evaluator(Solution(fn), backend).residuals(problem.batch(points, {}))


def kovasznay_psi(x):
    """Stream function of the Kovasznay flow: psi_y = u, -psi_x = v."""
    lam = kovasznay_lambda(RE)
    psi = x[:, 1] - torch.exp(lam * x[:, 0]) * torch.sin(2 * math.pi * x[:, 1]) / (2 * math.pi)
    return torch.stack([psi, kovasznay_solution(x, RE)[:, 2]], dim=1)


def taylor_green_psi(x):
    """Stream function of the drifting Taylor–Green vortex."""
    t = x[:, 2]
    xs, ys = K_TG * (x[:, 0] - DRIFT[0] * t), K_TG * (x[:, 1] - DRIFT[1] * t)
    psi = DRIFT[0] * x[:, 1] - DRIFT[1] * x[:, 0] - torch.cos(xs) * torch.cos(ys) * torch.exp(
        -2 * NU_TG * K_TG**2 * t) / K_TG
    p = taylor_green_solution(x, NU_TG, wavenumber=K_TG, drift=DRIFT)[:, 2]
    return torch.stack([psi, p], dim=1)


KOVASZNAY_DOMAIN = G.Rectangle([-0.5, -0.5], [1.0, 1.5])
SQUARE_TIME = G.Rectangle([-1, -1], [1, 1]) * G.TimeDomain(0, 1)
CUBE_TIME = G.Cuboid([-1, -1, -1], [1, 1, 1]) * G.TimeDomain(0, 1)

CASES = {
    "kovasznay": (lambda: Problem(KOVASZNAY_DOMAIN, equations.navier_stokes(1 / RE), ("u", "v", "p")),
                  lambda x: kovasznay_solution(x, RE), 1.0),
    "taylor_green_drift": (lambda: Problem(SQUARE_TIME, equations.navier_stokes(NU_TG, steady=False), ("u", "v", "p")),
                           lambda x: taylor_green_solution(x, NU_TG, wavenumber=K_TG, drift=DRIFT), 10.0),
    "beltrami": (lambda: Problem(CUBE_TIME, equations.navier_stokes(1.0, dim=3, steady=False), ("u", "v", "w", "p")),
                 lambda x: beltrami_solution(x, 1.0), 100.0),
    "kovasznay_stream": (lambda: Problem(KOVASZNAY_DOMAIN, equations.navier_stokes_stream_function(1 / RE),
                                         ("psi", "p")), kovasznay_psi, 1.0),
    "taylor_green_stream": (lambda: Problem(SQUARE_TIME, equations.navier_stokes_stream_function(NU_TG, steady=False),
                                            ("psi", "p")), taylor_green_psi, 10.0),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("backend", ["autograd", "zcs"])
def test_residual_vanishes_on_exact_solutions(name, backend):
    build, fn, scale = CASES[name]
    problem = build()
    report = assert_residual_vanishes(problem, fn, atol=1e-11 * scale, points=48, seed=1, backends=backend)
    expected = ["momentum_x", "momentum_y"] + (["momentum_z"] if "beltrami" in name else []) + (
        [] if "stream" in name else ["continuity"])
    assert list(report[backend]) == expected == list(problem.pde_terms)


def test_wrong_viscosity_or_convection_leaves_a_residual():
    for residual in (equations.navier_stokes(1 / 40), equations.navier_stokes(1 / RE, convection=0.9)):
        r = residuals(Problem(KOVASZNAY_DOMAIN, residual, ("u", "v", "p")), lambda x: kovasznay_solution(x, RE))
        assert r["momentum_x"].abs().max() > 1e-2 and r["continuity"].abs().max() < 1e-12


def test_trainable_coefficients_and_the_identifiability_of_convection():
    """nu and convection as PDE parameters; with a drift the convection coefficient is visible in the residual,
    without one (pure Taylor–Green) ``lambda * p`` balances ``lambda (u.grad) u`` for every ``lambda``."""

    def problem(lam):
        return Problem(SQUARE_TIME, equations.navier_stokes("nu", convection="lam", steady=False), ("u", "v", "p"),
                       parameters={"nu": NU_TG, "lam": lam})

    def with_scaled_pressure(drift, lam):
        def fn(x):
            out = taylor_green_solution(x, NU_TG, wavenumber=K_TG, drift=drift)
            return torch.cat([out[:, :2], lam * out[:, 2:]], dim=1)
        return fn

    exact = residuals(problem(1.0), with_scaled_pressure(DRIFT, 1.0))
    assert max(v.abs().max() for v in exact.values()) < 1e-10
    still = residuals(problem(0.5), with_scaled_pressure((0.0, 0.0), 1.0))
    assert still["momentum_x"].abs().max() > 0.1  # the pressure does not match lambda = 0.5 ...
    free = residuals(problem(0.5), with_scaled_pressure((0.0, 0.0), 0.5))
    assert max(v.abs().max() for v in free.values()) < 1e-10  # ... unless it is scaled: not identifiable
    drifting = residuals(problem(0.5), with_scaled_pressure(DRIFT, 0.5))
    assert drifting["momentum_x"].abs().max() > 0.1  # with the drift, no pressure rescaling compensates


def test_body_force():
    """A uniform force g balanced by the pressure p + g . x."""
    g = (0.3, -1.2)

    def fn(x):
        out = kovasznay_solution(x, RE)
        return torch.cat([out[:, :2], out[:, 2:] + g[0] * x[:, :1] + g[1] * x[:, 1:]], dim=1)

    def force(x):
        return torch.tensor(g, dtype=x.dtype).expand(len(x), 2)

    r = residuals(Problem(KOVASZNAY_DOMAIN, equations.navier_stokes(1 / RE, force=force), ("u", "v", "p")), fn)
    assert max(v.abs().max() for v in r.values()) < 1e-11
    r = residuals(Problem(KOVASZNAY_DOMAIN, equations.navier_stokes(1 / RE), ("u", "v", "p")), fn)
    assert r["momentum_y"].abs().min() > 1.0


def test_renamed_outputs_and_coordinates():
    domain = G.Rectangle([-0.5, -0.5], [1.0, 1.5], names=("x1", "x2"))
    residual = equations.navier_stokes(1 / RE, velocity=("a", "b"), pressure="q", space=("x1", "x2"))
    r = residuals(Problem(domain, residual, ("a", "b", "q")), lambda x: kovasznay_solution(x, RE))
    assert max(v.abs().max() for v in r.values()) < 1e-11


@pytest.mark.parametrize("kwargs, match", [
    ({"dim": 4}, "dim must be 2 or 3"),
    ({"dim": True}, "dim must be 2 or 3"),
    ({"steady": "yes"}, "steady must be True or False"),
    ({"velocity": ("u", "v", "w")}, "velocity must name 2 components"),
    ({"dim": 3, "space": ("x", "y")}, "space must name 3 components"),
    ({"pressure": 3}, "pressure must be the name"),
    ({"force": 1.0}, "force must be None or a function"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        equations.navier_stokes(0.1, **kwargs)


def test_bad_arguments_stream_function():
    with pytest.raises(ValueError, match="space must name 2 components"):
        equations.navier_stokes_stream_function(0.1, space=("x", "y", "z"))
    with pytest.raises(ValueError, match="steady must be True or False"):
        equations.navier_stokes_stream_function(0.1, steady=None)
    with pytest.raises(ValueError, match="unknown output 'psi'"):
        Problem(KOVASZNAY_DOMAIN, equations.navier_stokes_stream_function(0.1), ("u", "p"))
