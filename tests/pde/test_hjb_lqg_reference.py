"""``pinnkit.pde.references.HJBLQG``: the quadratic closed form solves the PDE, and the Monte Carlo Cole-Hopf
solution matches it within its own standard error.

Problem: ``u_t + Laplacian_x u - mu |grad_x u|^2 = 0`` on ``[0, T] x R^d``, ``u(T, x) = g(x)``.
"""

from __future__ import annotations

import math

import pytest
import torch

from pinnkit.pde.references import HJBLQG


def points(n: int, dim: int, horizon: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=generator, dtype=torch.float64)
    t = horizon * torch.rand(n, generator=generator, dtype=torch.float64)
    return t, x


@pytest.mark.parametrize("dim, horizon, mu", [(5, 1.0, 1.0), (3, 0.5, 2.5)])
def test_closed_form_solves_the_pde(dim, horizon, mu):
    problem = HJBLQG(dim, horizon, mu, terminal="quadratic")
    t, x = points(40, dim, horizon)
    t.requires_grad_(True)
    x.requires_grad_(True)
    u = problem.closed_form(t, x)
    u_t, u_x = torch.autograd.grad(u.sum(), (t, x), create_graph=True)
    laplacian = sum(torch.autograd.grad(u_x[:, i].sum(), x, retain_graph=True)[0][:, i] for i in range(dim))
    residual = u_t + laplacian - mu * (u_x**2).sum(-1)
    assert float(residual.detach().abs().max()) < 1e-10
    at_end = problem.closed_form(horizon, x.detach())
    torch.testing.assert_close(at_end, problem.terminal_value(x.detach()), rtol=0, atol=1e-12)


def test_monte_carlo_matches_the_closed_form():
    problem = HJBLQG(5, terminal="quadratic")
    t, x = points(50, 5, 1.0, seed=1)
    u, se = problem.monte_carlo(t, x, samples=10_000, seed=3)
    exact = problem.closed_form(t, x)
    assert u.dtype == se.dtype == torch.float64 and u.shape == se.shape == (50,)
    assert bool((se > 0).all())
    z = (u - exact) / se
    assert float(z.abs().max()) < 5.0
    # the standard error is honest: the z-scores spread like N(0, 1), not far narrower or wider
    assert 0.5 < float(z.std()) < 1.5
    # more samples, smaller error, at the Monte Carlo rate
    _, se4 = problem.monte_carlo(t, x, samples=40_000, seed=3)
    assert math.isclose(float((se / se4).median()), 2.0, rel_tol=0.1)


def test_monte_carlo_at_the_terminal_time_is_the_terminal_condition():
    problem = HJBLQG(7)
    _, x = points(10, 7, 1.0)
    u, se = problem.monte_carlo(1.0, x, samples=100)
    torch.testing.assert_close(u, problem.terminal_value(x), rtol=1e-12, atol=1e-12)
    assert float(se.abs().max()) < 1e-10


def test_log_terminal_condition_and_argument_errors():
    problem = HJBLQG(3)
    x = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(problem.terminal_value(x), torch.tensor([0.0, -math.log(2.0)], dtype=torch.float64))
    with pytest.raises(ValueError, match="closed_form.*terminal='quadratic'"):
        problem.closed_form(0.0, x)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 3\)"):
        problem.terminal_value(torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"t must lie in \[0, horizon\]"):
        problem.monte_carlo(torch.tensor([0.5, 1.5]), x)
    with pytest.raises(ValueError, match="terminal"):
        HJBLQG(3, terminal="cubic")
    with pytest.raises(ValueError, match="mu"):
        HJBLQG(3, mu=0.0)
    with pytest.raises(ValueError, match="samples"):
        problem.monte_carlo(0.0, x, samples=0)
