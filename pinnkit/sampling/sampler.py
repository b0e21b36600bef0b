"""The sampler abstraction: a sampler owns the collocation points of the PDE loss.

Each step the trainer asks for ``(points, weights)``, evaluates the residual there (in the same forward pass
that makes the loss), and hands the detached per-point residuals back through :meth:`Sampler.update`, so
adaptive samplers (R3, RAR-D, causal weighting) can move or reweight points at no extra cost. State that
changes during training is in :meth:`state_dict` so checkpoints restore it exactly. A sampler that moves its
points returns a new tensor from :meth:`Sampler.points`; the trainer notices by identity.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..geometry import Geometry
from ..geometry.unit_samples import check_count, check_method


class Sampler(abc.ABC):
    """Collocation points (and per-point weights) for the PDE terms."""

    def setup(self, domain: Geometry, rng: np.random.Generator, dtype: torch.dtype, device: torch.device,
              residual: Callable[[Tensor], Tensor] | None = None) -> None:
        """Called once by the trainer before training: the domain, a random stream, dtype and device, and
        ``residual(points) -> (N,)`` detached PDE residuals at any points (for samplers that need candidates)."""
        self.domain, self.rng, self.dtype, self.device = domain, rng, dtype, device
        self.residual = residual

    @abc.abstractmethod
    def points(self, step: int) -> tuple[Tensor, Tensor | None]:
        """``(points (N, d), weights (N,) or None)`` for this step; ``None`` weights means all ones."""

    def update(self, step: int, residual: Tensor) -> None:
        """Receive the detached PDE residual at this step's points (N,) or (N, m). Default: nothing."""
        del step, residual  # fixed samplers ignore the residual

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        del state


class PointPool(Sampler):
    """A pool of ``n`` points, drawn with ``method`` when training starts, that subclasses may move.

    Holds what the pool samplers share: the initial draw, :meth:`points` (no weights), fresh uniform points
    (:meth:`uniform`), and the pool in the checkpointed state.
    """

    def __init__(self, n: int, method: str = "random"):
        self.n, self.method = check_count(n), check_method(method)
        self._pool: Tensor | None = None

    def setup(self, domain, rng, dtype, device, residual=None):
        super().setup(domain, rng, dtype, device, residual)
        if self._pool is None:
            self._pool = domain.sample_interior(self.n, self.method, seed=rng, dtype=dtype, device=device)

    def uniform(self, m: int) -> Tensor:
        """``m`` fresh uniform random points of the domain, from the sampler's stream."""
        return self.domain.sample_interior(m, "random", seed=self.rng, dtype=self.dtype, device=self.device)

    def points(self, step):
        return self._pool, None

    def state_dict(self) -> dict[str, Any]:
        return {"pool": self._pool}

    def load_state_dict(self, state):
        self._pool = state["pool"].to(dtype=self.dtype, device=self.device)


class FixedPoints(PointPool):
    """``n`` points drawn once with ``method`` and kept for the whole run (the classic PINN setting)."""

    def __init__(self, n: int = 2000, method: str = "sobol"):
        super().__init__(n, method)
