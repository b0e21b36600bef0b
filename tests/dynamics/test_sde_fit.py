"""SDE fits: the transition likelihood against scipy's Gaussian densities, and both fitting methods recovering
the parameters of an Ornstein–Uhlenbeck process from exactly sampled paths."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch
from torch import nn

import pinnkit.dynamics as dyn

F64 = torch.float64
THETA, MU, SIGMA = 1.0, 0.5, 0.3


class OUDrift(nn.Module):
    def __init__(self, theta: float, mu: float):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor(theta, dtype=F64))
        self.mu = nn.Parameter(torch.tensor(mu, dtype=F64))

    def forward(self, t, u):
        return self.theta * (self.mu - u)


class ConstantDiffusion(nn.Module):
    def __init__(self, sigma: float):
        super().__init__()
        self.log_sigma = nn.Parameter(torch.tensor(math.log(sigma), dtype=F64))

    def forward(self, t, u):
        return torch.exp(self.log_sigma) * torch.ones_like(u)


class _StateOnly(nn.Module):
    """A field f(t, u) as a network of the state alone (for Autonomous)."""

    def __init__(self, field: nn.Module):
        super().__init__()
        self.field = field

    def forward(self, u):
        return self.field(None, u)


def exact_ou_paths(t: np.ndarray, n: int, seed: int) -> torch.Tensor:
    """Paths (T, n, 1) of the OU process by its exact Gaussian transitions, from x0 ~ U(-0.5, 1.5)."""
    rng = np.random.default_rng(seed)
    x = np.empty((len(t), n))
    x[0] = rng.uniform(-0.5, 1.5, n)
    for i in range(len(t) - 1):
        decay = math.exp(-THETA * (t[i + 1] - t[i]))
        sd = SIGMA * math.sqrt((1 - decay**2) / (2 * THETA))
        x[i + 1] = MU + (x[i] - MU) * decay + sd * rng.normal(size=n)
    return torch.from_numpy(x[:, :, None])


def test_transition_nll_is_the_gaussian_negative_log_density():
    t = torch.tensor([0.0, 0.1, 0.25], dtype=F64)
    paths = exact_ou_paths(t.numpy(), 5, seed=0)
    paths[1, 2, 0] = float("nan")  # removes the transitions 0->1 and 1->2 of path 2
    sde = dyn.NeuralSDE(OUDrift(0.7, 0.2), ConstantDiffusion(0.4))
    x = paths[:, :, 0].numpy()
    logs = []
    for i, dt in ((0, 0.1), (1, 0.15)):
        for b in range(5):
            if np.isnan(x[i, b]) or np.isnan(x[i + 1, b]):
                continue
            logs.append(scipy.stats.norm.logpdf(x[i + 1, b], x[i, b] + 0.7 * (0.2 - x[i, b]) * dt,
                                                0.4 * math.sqrt(dt)))
    assert len(logs) == 8
    assert float(dyn.transition_nll(sde, t, paths).detach()) == pytest.approx(-np.mean(logs), rel=1e-10)


def test_transition_nll_with_general_noise_is_the_multivariate_gaussian():
    g = np.array([[0.3, 0.1, 0.0], [0.2, -0.4, 0.5]])
    drift = np.array([[-1.0, 0.5], [0.0, -2.0]])
    sde = dyn.NeuralSDE(lambda s, u: u @ torch.from_numpy(drift).T,
                        lambda s, u: torch.from_numpy(g).expand(u.shape[0], 2, 3), noise="general",
                        brownian_size=3)
    rng = np.random.default_rng(1)
    t = torch.tensor([0.0, 0.05, 0.2], dtype=F64)
    paths = torch.from_numpy(rng.normal(size=(3, 4, 2)))
    x = paths.numpy()
    logs = [scipy.stats.multivariate_normal.logpdf(x[i + 1, b], x[i, b] + drift @ x[i, b] * dt, g @ g.T * dt)
            for i, dt in ((0, 0.05), (1, 0.15)) for b in range(4)]
    assert float(dyn.transition_nll(sde, t, paths)) == pytest.approx(-np.mean(logs), rel=1e-7)


def test_transition_fit_recovers_ornstein_uhlenbeck_parameters():
    t = torch.linspace(0, 4, 401, dtype=F64)  # dt = 0.01
    paths = exact_ou_paths(t.numpy(), 100, seed=2)
    drift, diffusion = OUDrift(0.3, 0.0), ConstantDiffusion(1.0)
    # autonomous fields: all transitions in one batch
    fast = dyn.NeuralSDE(dyn.Autonomous(_StateOnly(drift)), dyn.Autonomous(_StateOnly(diffusion)))
    fit = dyn.SDETransitionFit(fast, t, paths)
    fit.fit(30, optimizer="lbfgs", progress=False)
    theta, mu, sigma = float(drift.theta.detach()), float(drift.mu.detach()), float(diffusion.log_sigma.exp().detach())
    # the same likelihood evaluated time by time (fields that may depend on time)
    slow = dyn.NeuralSDE(drift, diffusion)
    assert float(dyn.transition_nll(slow, t, paths).detach()) == pytest.approx(float(fit.loss().detach()),
                                                                                rel=1e-12)
    # 40 000 transitions: sigma to ~0.5 %; theta from 4 time units of 100 paths to ~5 %
    assert sigma == pytest.approx(SIGMA, rel=0.02)
    assert theta == pytest.approx(THETA, rel=0.1) and mu == pytest.approx(MU, abs=0.05)


def test_moment_fit_recovers_ornstein_uhlenbeck_parameters_from_coarse_paths():
    t = torch.linspace(0, 3, 7, dtype=F64)  # one observation every 0.5
    paths = exact_ou_paths(t.numpy(), 400, seed=3)
    drift, diffusion = OUDrift(0.5, 0.0), ConstantDiffusion(0.5)
    fit = dyn.SDEMomentFit(dyn.NeuralSDE(drift, diffusion, dt=0.05), t, paths, samples=400, seed=0)
    fit.fit(20, optimizer="lbfgs", progress=False)
    assert set(fit.history[-1]) >= {"mean", "variance"}
    theta, mu, sigma = float(drift.theta.detach()), float(drift.mu.detach()), float(diffusion.log_sigma.exp().detach())
    assert theta == pytest.approx(THETA, rel=0.2) and mu == pytest.approx(MU, abs=0.05)
    assert sigma == pytest.approx(SIGMA, rel=0.15)


def test_bad_inputs_are_refused_clearly():
    t = torch.linspace(0, 1, 4, dtype=F64)
    paths = torch.zeros(4, 3, 1, dtype=F64)
    sde = dyn.NeuralSDE(lambda s, u: -u, lambda s, u: torch.ones_like(u))
    with pytest.raises(ValueError, match="sde must be a pinnkit.dynamics.NeuralSDE"):
        dyn.SDETransitionFit(nn.Linear(1, 1), t, paths)
    with pytest.raises(ValueError, match=r"paths must be a tensor \(T, B, d\)"):
        dyn.SDETransitionFit(sde, t, paths[:, :, 0])
    with pytest.raises(ValueError, match="strictly increasing"):
        dyn.SDETransitionFit(sde, t.flip(0), paths)
    with pytest.raises(ValueError, match="same dtype"):
        dyn.SDETransitionFit(sde, t.float(), paths)
    with pytest.raises(ValueError, match="the drift must return"):
        dyn.SDETransitionFit(dyn.NeuralSDE(lambda s, u: u.sum(1), lambda s, u: u), t, torch.zeros(4, 3, 2,
                                                                                                  dtype=F64))
    all_missing = paths.clone()
    all_missing[1:] = float("nan")
    with pytest.raises(ValueError, match="no transition with both ends observed"):
        dyn.transition_nll(sde, t, all_missing)
    with pytest.raises(ValueError, match="do not vary"):
        dyn.SDEMomentFit(sde, t, paths)
    with pytest.raises(ValueError, match="samples must be a positive integer"):
        dyn.SDEMomentFit(sde, t, torch.randn(4, 3, 1, dtype=F64), samples=0)
    with pytest.raises(ValueError, match="initial states paths\\[0\\] must be complete"):
        dyn.SDEMomentFit(sde, t, all_missing.flip(0))
