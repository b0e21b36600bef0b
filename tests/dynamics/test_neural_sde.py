"""NeuralSDE against closed-form moments (Ornstein–Uhlenbeck, Brownian motion with a constant matrix, geometric
Brownian motion in both calculi), the Itô–Stratonovich drift conversion, reproducible noise, checks."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import pinnkit.dynamics as dyn

F64 = torch.float64
THETA, MU, SIGMA = 1.0, 0.5, 0.3


def ou_sde(**kwargs) -> dyn.NeuralSDE:
    return dyn.NeuralSDE(lambda t, u: THETA * (MU - u), lambda t, u: SIGMA * torch.ones_like(u), **kwargs)


def test_ornstein_uhlenbeck_mean_and_variance():
    """X_0 = x0: E X_t = mu + (x0 - mu) e^{-theta t}, Var X_t = sigma^2 (1 - e^{-2 theta t}) / (2 theta)."""
    n, x0 = 4000, -0.4
    t = torch.tensor([0.0, 0.5, 1.0, 2.0], dtype=F64)
    paths = ou_sde(dt=0.005)(torch.full((n, 1), x0, dtype=F64), t, seed=3)[:, :, 0]
    assert paths.shape == (4, n)
    decay = torch.exp(-THETA * t)
    mean = MU + (x0 - MU) * decay
    var = SIGMA**2 * (1 - decay**2) / (2 * THETA)
    # five standard errors of the estimators, plus the O(dt) bias of Euler-Maruyama
    assert torch.all((paths.mean(1) - mean).abs() <= 5 * torch.sqrt(var / n) + 0.01 * THETA * 0.005 + 1e-12)
    rel = (paths.var(1)[1:] - var[1:]).abs() / var[1:]
    assert torch.all(rel <= 5 * math.sqrt(2 / n) + 0.01), rel


def test_general_noise_covariance_is_g_g_transpose_times_t():
    g = torch.tensor([[0.3, -0.2, 0.1], [0.0, 0.4, 0.25]], dtype=F64)  # d = 2, m = 3
    sde = dyn.NeuralSDE(lambda t, u: torch.zeros_like(u), lambda t, u: g.expand(u.shape[0], 2, 3),
                        noise="general", brownian_size=3, dt=0.05)
    n = 6000
    t = torch.tensor([0.0, 2.0], dtype=F64)
    end = sde(torch.zeros(n, 2, dtype=F64), t, seed=0)[-1]
    cov = torch.cov(end.T)
    exact = g @ g.T * 2.0
    assert torch.all((cov - exact).abs() <= 5 * math.sqrt(2 / n) * exact.diagonal().max())


def test_stratonovich_and_ito_geometric_brownian_motion_agree_in_the_mean():
    """dX = a X dt + b X dW (Itô) is dX = (a - b^2/2) X dt + b X ∘dW (Stratonovich); E X_t = x0 e^{a t}."""
    a, b, n = 0.3, 0.4, 4000
    t = torch.tensor([0.0, 1.0], dtype=F64)
    x0 = torch.ones(n, 1, dtype=F64)
    ito = dyn.NeuralSDE(lambda s, u: a * u, lambda s, u: b * u, method="milstein", dt=0.01)
    strat = dyn.NeuralSDE(lambda s, u: (a - b**2 / 2) * u, lambda s, u: b * u, sde_type="stratonovich", dt=0.01)
    exact_mean = math.exp(a)
    sd = math.sqrt(math.exp(2 * a) * (math.exp(b**2) - 1) / n)
    for sde in (ito, strat):
        end = sde(x0, t, seed=5)[-1, :, 0].detach()
        assert abs(float(end.mean()) - exact_mean) < 5 * sd
        # log X_1 is Gaussian with variance b^2 in both readings
        assert float(torch.log(end).var()) == pytest.approx(b**2, rel=5 * math.sqrt(2 / n) + 0.02)


def test_ito_drift_of_a_stratonovich_sde():
    """μ_Itô,i = μ_i + ½ Σ_jk σ_kj ∂σ_ij/∂u_k, here by hand for diagonal and for general noise."""
    u = torch.tensor([[0.5, -1.2], [2.0, 0.3]], dtype=F64)
    t = torch.tensor(0.0, dtype=F64)
    diag = dyn.NeuralSDE(lambda s, x: -x, lambda s, x: torch.stack([x[:, 0] ** 2, torch.sin(x[:, 1])], 1),
                         sde_type="stratonovich")
    expected = -u + 0.5 * torch.stack([u[:, 0] ** 2 * 2 * u[:, 0], torch.sin(u[:, 1]) * torch.cos(u[:, 1])], 1)
    torch.testing.assert_close(diag.ito_drift(t, u), expected)

    def g(s, x):  # (B, 2, 2): [[x0, x1], [x0 x1, 1]]
        return torch.stack([torch.stack([x[:, 0], x[:, 1]], 1), torch.stack([x[:, 0] * x[:, 1],
                                                                             torch.ones_like(x[:, 0])], 1)], 1)

    general = dyn.NeuralSDE(lambda s, x: torch.zeros_like(x), g, noise="general", brownian_size=2,
                            sde_type="stratonovich")
    x0, x1 = u[:, 0], u[:, 1]
    # row 0: σ_00 = x0, σ_01 = x1; Σ_j Σ_k σ_kj ∂σ_0j/∂u_k = σ_00 * 1 + σ_11 * 1 = x0 + 1
    # row 1: σ_10 = x0 x1, σ_11 = 1; Σ_k σ_k0 ∂(x0 x1)/∂u_k = σ_00 x1 + σ_10 x0 = x0 x1 + x0^2 x1
    expected = 0.5 * torch.stack([x0 + 1, x0 * x1 + x0**2 * x1], 1)
    torch.testing.assert_close(general.ito_drift(t, u), expected)
    ito = dyn.NeuralSDE(lambda s, x: -x, lambda s, x: x)
    torch.testing.assert_close(ito.ito_drift(t, u), -u)


def test_seed_fixes_the_noise():
    sde = ou_sde(dt=0.05)
    t = torch.linspace(0, 1, 5, dtype=F64)
    u0 = torch.zeros(8, 1, dtype=F64)
    first, again, other = sde(u0, t, seed=1), sde(u0, t, seed=1), sde(u0, t, seed=2)
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    assert not torch.allclose(first, other)
    assert sde(torch.zeros(1, dtype=F64), t, seed=1).shape == (5, 1)


def test_gradients_reach_drift_and_diffusion_parameters():
    torch.manual_seed(0)
    drift = dyn.Autonomous(nn.Linear(1, 1).double())
    log_sigma = nn.Parameter(torch.tensor(-1.0, dtype=F64))

    class Diffusion(nn.Module):
        def __init__(self):
            super().__init__()
            self.log_sigma = log_sigma

        def forward(self, t, u):
            return torch.exp(self.log_sigma) * torch.ones_like(u)

    sde = dyn.NeuralSDE(drift, Diffusion(), dt=0.05)
    paths = sde(torch.zeros(16, 1, dtype=F64), torch.linspace(0, 1, 3, dtype=F64), seed=0)
    paths.pow(2).mean().backward()
    assert log_sigma.grad is not None and float(log_sigma.grad) > 0  # more noise, larger second moment
    assert all(p.grad is not None for p in drift.parameters())


def test_bad_inputs_are_refused_clearly():
    f = lambda t, u: -u  # noqa: E731
    with pytest.raises(ValueError, match="noise must be one of"):
        dyn.NeuralSDE(f, f, noise="scalar")
    with pytest.raises(ValueError, match="sde_type must be one of"):
        dyn.NeuralSDE(f, f, sde_type="ito2")
    with pytest.raises(ValueError, match="does not solve ito SDEs"):
        dyn.NeuralSDE(f, f, method="midpoint")
    with pytest.raises(ValueError, match="does not handle general noise"):
        dyn.NeuralSDE(f, f, noise="general", brownian_size=2, method="srk")
    with pytest.raises(ValueError, match="brownian_size .* is required"):
        dyn.NeuralSDE(f, f, noise="general")
    with pytest.raises(ValueError, match="brownian_size is for general noise"):
        dyn.NeuralSDE(f, f, brownian_size=2)
    with pytest.raises(ValueError, match="dt must be a positive"):
        dyn.NeuralSDE(f, f, dt=0.0)
    t = torch.linspace(0, 1, 3, dtype=F64)
    with pytest.raises(ValueError, match="diagonal noise: the diffusion must return"):
        dyn.NeuralSDE(f, lambda s, u: u[:, :1])(torch.zeros(2, 2, dtype=F64), t)
    with pytest.raises(ValueError, match=r"general noise: the diffusion must return \(B, d, m\)"):
        dyn.NeuralSDE(f, lambda s, u: u, noise="general", brownian_size=2)(torch.zeros(2, 2, dtype=F64), t)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        dyn.NeuralSDE(f, f)(torch.zeros(2, 1, dtype=F64), t, seed=-1)
    with pytest.raises(ValueError, match="strictly increasing"):
        dyn.NeuralSDE(f, f)(torch.zeros(2, 1, dtype=F64), t.flip(0))
