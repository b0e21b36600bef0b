"""R3 (retain-resample-release) and Causal R3 sampling (Daw, Bu, Wang, Perdikaris & Karpatne, ICML 2023).

R3 keeps a pool of ``N`` collocation points. After each step, with the residuals ``r_j`` of that same step,

    F_j = |r_j|                      (fitness)
    tau = threshold_scale * mean_j F_j
    retain {p_j : F_j > tau}         (strictly greater); replace every other point by a fresh uniform one

so the pool keeps its size while points accumulate where the residual is high. The update is one fixed-shape
``where(retain, pool, fresh)`` on residuals the step computed anyway.

Causal R3 adds a gate on the normalised time ``s = (t - t0) / (t1 - t0)`` that lets the loss see early times
first and opens as the early residuals fall:

    g(s) = (1 - tanh(alpha (s - beta))) / 2                  alpha = 5, beta starts at -0.5
    loss  L_r = mean((r g)^2)        (per-point weights g^2: the sampler's own weighting, :class:`CausalGate`)
    fitness F_j = |r_j| g(s_j), retain F_j > mean F
    after the step:  L_g = mean((|r| g)^2),  beta += eta * min(exp(-eps L_g), clip)   eta = 1e-3, eps = 20, clip = 0.1

``beta`` never decreases, and once ``beta >> 1`` the gate is 1 everywhere and Causal R3 is R3.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..checks import check_finite_float, check_positive_float
from ..geometry import SpaceTimeDomain
from ..weighting import Weighting
from .sampler import PointPool


def fitness(residual: Tensor) -> Tensor:
    """``|r|`` per point; for several PDE terms (N, m), the Euclidean norm over the terms."""
    return residual.abs() if residual.ndim == 1 else torch.linalg.vector_norm(residual, dim=-1)


class R3(PointPool):
    """Retain-resample-release sampling of ``n`` points (see the module docstring).

    ``threshold_scale`` multiplies the mean fitness in the retention threshold (1 in the paper).
    """

    uses_residual = True  # the step's residual decides which points stay

    def __init__(self, n: int = 2000, threshold_scale: float = 1.0):
        super().__init__(n, "random")
        self.threshold_scale = check_positive_float(threshold_scale, "threshold_scale")
        self.retained: Tensor | None = None  # mask of the last update, for inspection and tests

    def retain(self, f: Tensor) -> None:
        """Keep the points whose fitness ``f`` (N,) exceeds the threshold; replace the others."""
        self.retained = f > self.threshold_scale * f.mean()
        self._pool = torch.where(self.retained[:, None], self._pool, self.uniform(self.n))

    def update(self, step, residual):
        self.retain(fitness(residual.to(self._pool.dtype)))


class CausalR3(R3):
    """R3 with the causal time gate of Daw et al. (see the module docstring); needs a space-time domain."""

    def __init__(self, n: int = 2000, *, alpha: float = 5.0, beta: float = -0.5, eta: float = 1e-3,
                 epsilon: float = 20.0, clip: float = 0.1, threshold_scale: float = 1.0):
        super().__init__(n, threshold_scale)
        self.alpha, self.eta = check_positive_float(alpha, "alpha"), check_positive_float(eta, "eta")
        self.epsilon, self.clip = check_positive_float(epsilon, "epsilon"), check_positive_float(clip, "clip")
        self.beta = self.beta0 = check_finite_float(beta, "beta")
        self._gate: Tensor | None = None  # the gate of this step's points, from the weighting, until update
        self._weighting = CausalGate(self)

    def setup(self, domain, rng, dtype, device, residual=None):
        if not isinstance(domain, SpaceTimeDomain):
            raise ValueError(f"CausalR3 needs a space-time domain (geometry * TimeDomain); got {domain!r}")
        super().setup(domain, rng, dtype, device, residual)
        self.beta, self._gate = self.beta0, None

    def gate(self, points: Tensor) -> Tensor:
        """``g(s)`` at the points' normalised times, (N,)."""
        t0, t1 = self.domain.time.t0, self.domain.time.t1
        s = (points[:, -1] - t0) / (t1 - t0)
        return 0.5 * (1 - torch.tanh(self.alpha * (s - self.beta)))

    def weighting(self) -> CausalGate:
        """The gate as the loss's per-point weights ``g^2``."""
        return self._weighting

    def update(self, step, residual):
        # the gate the weighting computed this step, unless it was of more points (GivenPoints in front of these)
        cached = self._gate is not None and len(self._gate) == len(self._pool)
        gate = self._gate if cached else self.gate(self._pool)
        gated = fitness(residual.to(self._pool.dtype)) * gate  # the step's points and gate
        loss = float(gated.square().mean())
        self.retain(gated)
        self._gate = None
        self.beta += self.eta * min(math.exp(-self.epsilon * loss), self.clip)

    def info(self):
        return {"causal_beta": self.beta}

    def state_dict(self):
        return {**super().state_dict(), "beta": self.beta}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.beta = float(state["beta"])


class CausalGate(Weighting):
    """The per-point loss weights ``g(s)^2`` of a :class:`CausalR3` sampler (its own weighting; the gate's
    ``beta`` is the sampler's, advanced in :meth:`CausalR3.update`)."""

    def __init__(self, sampler: CausalR3):
        self.sampler = sampler

    def compute(self, points, pde_residual, condition_losses):
        gate = self.sampler.gate(points)
        self.sampler._gate = gate  # this step's gate, reused by the sampler's update
        return gate.square()
