"""Ready-made equations: their residuals vanish on exact solutions (through the derivative engine)."""

import math

import pytest
import torch

import pinnkit.geometry as G
from pinnkit.pde import Problem, equations
from pinnkit.testing import assert_residual_vanishes


class Solution(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)[:, None]


CASES = {
    # u = exp(-k pi^2 t) sin(pi x) solves u_t = k u_xx
    "heat": (equations.heat(0.3), G.Interval(0, 1) * G.TimeDomain(0, 1),
             lambda p: torch.exp(-0.3 * math.pi**2 * p[:, 1]) * torch.sin(math.pi * p[:, 0])),
    # u = sin(pi x) sin(pi y) solves -Laplacian u = 2 pi^2 u
    "poisson": (equations.poisson(lambda p: 2 * math.pi**2 * torch.sin(math.pi * p[:, 0]) * torch.sin(
        math.pi * p[:, 1])), G.Rectangle([0, 0], [1, 1]),
        lambda p: torch.sin(math.pi * p[:, 0]) * torch.sin(math.pi * p[:, 1])),
    # u = sin(x - c t) solves u_tt = c^2 u_xx
    "wave": (equations.wave(1.7), G.Interval(0, 3) * G.TimeDomain(0, 1), lambda p: torch.sin(p[:, 0] - 1.7 * p[:, 1])),
    # u = sin(x - beta t) solves u_t + beta u_x = 0
    "convection": (equations.convection(50.0), G.Interval(0, 2 * math.pi) * G.TimeDomain(0, 1),
                   lambda p: torch.sin(p[:, 0] - 50 * p[:, 1])),
    # Burgers travelling front: u = a - b tanh(b (x - a t) / (2 nu)) solves u_t + u u_x = nu u_xx
    "burgers": (equations.burgers(0.05), G.Interval(-1, 1) * G.TimeDomain(0, 1),
                lambda p: 0.3 - 0.5 * torch.tanh(0.5 * (p[:, 0] - 0.3 * p[:, 1]) / (2 * 0.05))),
    # Allen-Cahn with no diffusion: u_t = r (u - u^3) has u = 1 / sqrt(1 + 3 exp(-2 r t)) for u0 = 1/2
    "allen_cahn": (equations.allen_cahn(0.0, 5.0), G.Interval(-1, 1) * G.TimeDomain(0, 1),
                   lambda p: 1 / torch.sqrt(1 + 3 * torch.exp(-10 * p[:, 1]))),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("backend", ["autograd", "zcs"])
def test_residual_vanishes_on_exact_solutions(name, backend):
    residual, domain, solution = CASES[name]
    problem = Problem(domain, residual, outputs="u")
    report = assert_residual_vanishes(problem, solution, atol=1e-9, points=64, seed=0, backends=backend)
    assert list(report) == [backend] and list(report[backend]) == ["pde"]


def test_coefficients_can_be_trainable_parameters():
    domain = G.Interval(-1, 1) * G.TimeDomain(0, 1)
    problem = Problem(domain, equations.burgers(nu="nu", convection="lam"), outputs="u",
                      parameters={"nu": 0.05, "lam": 1.0})
    points = domain.sample_interior(16, seed=0, dtype=torch.float64)
    nu = problem.parameters["nu"]  # the initial value as given, a float

    def front(p):
        return 0.3 - 0.5 * torch.tanh(0.5 * (p[:, 0] - 0.3 * p[:, 1]) / (2 * nu))

    r = problem.evaluator(Solution(front)).residuals(problem.batch(points, {}))["pde"]
    assert r.abs().max() < 1e-9
    with pytest.raises(ValueError, match="name the problem does not have"):
        Problem(domain, equations.burgers(nu="viscosity"), outputs="u")
