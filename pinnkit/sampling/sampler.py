"""The sampler abstraction: a sampler owns the collocation points of the PDE loss.

Each step the trainer asks for the points once (:meth:`Sampler.points`), evaluates the residual there (in the
same forward pass that makes the loss), and hands the detached per-point residuals back once through
:meth:`Sampler.update`, so adaptive samplers (R3, RAD, RAR-D) can move points at no extra cost. State that
changes during training is in :meth:`state_dict` so checkpoints restore it exactly. A sampler that moves its
points returns a new tensor from :meth:`Sampler.points`; the trainer notices by identity.

Weights of the loss are not the sampler's business but a weighting's (:mod:`pinnkit.weighting`); a sampling
method that comes with weights of its own (Causal R3's time gate, a refined point set weighted down) supplies
them as a weighting from :meth:`Sampler.weighting`.
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
from ..ownership import TrainerPart
from ..weighting import Weighting


class Sampler(TrainerPart, abc.ABC):
    """Collocation points for the PDE terms; one trainer's at a time (:mod:`pinnkit.ownership`)."""

    #: Whether :meth:`update` looks at the residual it is given. A sampler that says ``False`` is handed ``None``
    #: where the residual would cost something to form (under data-parallel training, gathering every rank's
    #: rows is a collective each step). The default, ``True``, is right for any sampler that reads it.
    uses_residual: bool = True

    def setup(self, domain: Geometry, rng: np.random.Generator, dtype: torch.dtype, device: torch.device,
              residual: Callable[[Tensor], Tensor] | None = None) -> None:
        """Called once by the trainer before training: the domain, a random stream, dtype and device, and
        ``residual(points) -> (N,)`` detached PDE residuals at any points (for samplers that need candidates).
        It starts the sampler's state afresh (a sampler bound again draws its points in the new domain)."""
        self.domain, self.rng, self.dtype, self.device = domain, rng, dtype, device
        self.residual = residual

    @abc.abstractmethod
    def points(self, step: int) -> Tensor:
        """The points (N, d) for this step."""

    def weighting(self) -> Weighting | None:
        """The weighting that belongs to this sampling method (multiplied with the trainer's own), or None (the
        default)."""
        return None

    def update(self, step: int, residual: Tensor | None) -> None:
        """Receive the detached PDE residual at this step's points (N,) or (N, m), or ``None`` for a sampler whose
        :attr:`uses_residual` is ``False``. Default: nothing."""
        del step, residual  # fixed samplers ignore the residual



class Period:
    """Counts completed steps and says when a multiple of ``period`` has been passed.

    L-BFGS reports its iterations in chunks, so the step count can jump past a multiple; :meth:`due` is true
    once for every update call that crosses at least one. With ``until``, it is never due once ``until`` steps
    have been completed (the points then stay as they are: e.g. a fixed set for L-BFGS after adaptive Adam).
    """

    def __init__(self, period: int, until: int | None = None, name: str = "period"):
        self.period = check_count(period, name)
        if until is not None and (isinstance(until, bool) or not isinstance(until, int) or until < 0):
            raise ValueError(f"until must be None or a non-negative integer number of steps; got {until!r}")
        self.until = until
        self.last_step: int | None = None

    def due(self, step: int) -> bool:
        """Whether step ``step`` (0-based, just completed) passes a multiple of ``period`` since the last call
        (and no more than ``until`` steps have been completed)."""
        last = step - 1 if self.last_step is None else self.last_step
        self.last_step = step
        if self.until is not None and last + 1 >= self.until:
            return False
        return (step + 1) // self.period > (last + 1) // self.period


class PointPool(Sampler):
    """A pool of ``n`` points, drawn with ``method`` when training starts, that subclasses may move.

    Holds what the pool samplers share: the initial draw (:meth:`initial_points`, which a subclass may override to
    draw another set), :meth:`points`, fresh uniform points (:meth:`uniform`), and the pool in the checkpointed state.
    A pool moves by its own clock or its own candidates' residuals, not by the step's residual (R3 does; it says so).
    """

    uses_residual = False

    def __init__(self, n: int, method: str = "random"):
        self.n, self.method = check_count(n), check_method(method)
        self._pool: Tensor | None = None

    def setup(self, domain, rng, dtype, device, residual=None):
        super().setup(domain, rng, dtype, device, residual)
        pool = self.initial_points(domain, rng)
        if not isinstance(pool, Tensor) or pool.ndim != 2 or pool.shape[1] != domain.dim:
            raise ValueError(f"{type(self).__name__}.initial_points must return points (N, {domain.dim}); got "
                             f"{tuple(pool.shape) if isinstance(pool, Tensor) else type(pool).__name__}")
        self._pool = pool.to(dtype=dtype, device=device)
        # the default draw is in `dtype` already (distinct); an override may return another dtype that rounds
        distinct = len(torch.unique(self._pool, dim=0)) if pool.dtype != dtype else len(pool)
        if distinct < len(pool):
            raise ValueError(f"{type(self).__name__}: {len(pool)} points of {domain!r} round to only {distinct} "
                             f"distinct ones in {dtype} (coordinates far from 0 for the precision); use "
                             "dtype=torch.float64, fewer points, or coordinates nearer 0")

    def initial_points(self, domain: Geometry, rng: np.random.Generator) -> Tensor:
        """The initial pool: ``n`` points of ``domain`` by ``method`` from the stream ``rng``, in the trainer's dtype
        (distinct after rounding: :meth:`~pinnkit.geometry.Geometry.sample_interior` keeps that promise)."""
        return domain.sample_interior(self.n, self.method, seed=rng, dtype=self.dtype)

    def uniform(self, m: int) -> Tensor:
        """``m`` fresh uniform random points of the domain, from the sampler's stream."""
        return self.domain.sample_interior(m, "random", seed=self.rng, dtype=self.dtype, device=self.device)

    def points(self, step):
        return self._pool

    def state_dict(self) -> dict[str, Any]:
        return {"pool": self._pool}

    def load_state_dict(self, state):
        self._pool = state["pool"].to(dtype=self.dtype, device=self.device)


class FixedPoints(PointPool):
    """``n`` points drawn once with ``method`` and kept for the whole run (the classic PINN setting)."""

    def __init__(self, n: int = 2000, method: str = "sobol"):
        super().__init__(n, method)


class Resample(PointPool):
    """``n`` points drawn with ``method`` and replaced by a fresh draw after every ``every`` steps.

    ``every=1`` gives new points each step (stochastic collocation). Low-discrepancy methods draw a fresh
    scrambled set from the sampler's random stream each time. With ``until``, the last draw made within the
    first ``until`` steps is kept from then on.
    """

    def __init__(self, n: int = 2000, every: int = 1, method: str = "random", until: int | None = None):
        super().__init__(n, method)
        self.every = Period(every, until, "every")

    def setup(self, domain, rng, dtype, device, residual=None):
        super().setup(domain, rng, dtype, device, residual)
        self.every.last_step = None

    def update(self, step, residual):
        if self.every.due(step):
            self._pool = self.domain.sample_interior(self.n, self.method, seed=self.rng, dtype=self.dtype,
                                                     device=self.device)

    def state_dict(self):
        return {**super().state_dict(), "last_step": self.every.last_step}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.every.last_step = state["last_step"]


#: The point counts of pool samplers that weak scaling multiplies (the pool, RAD's candidates, RAR-D's additions).
SCALED_COUNTS = ("n", "candidates", "add")


def scale_points(sampler: Sampler, factor: int) -> None:
    """Weak scaling of data-parallel training (:mod:`pinnkit.distributed`): multiply the sampler's point counts
    (:data:`SCALED_COUNTS`) by ``factor``, the number of ranks, so that its count is per rank."""
    if not isinstance(sampler, PointPool):
        raise ValueError(f"distributed: weak scaling multiplies a pool sampler's point count by the number of ranks; "
                         f"{type(sampler).__name__} has none (use DataParallel(scaling='strong'))")
    for name in SCALED_COUNTS:
        if isinstance(getattr(sampler, name, None), int):
            setattr(sampler, name, getattr(sampler, name) * factor)
