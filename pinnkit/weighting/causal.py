"""Causal time weighting (Wang, Sankaran & Perdikaris, "Respecting causality is all you need for training
physics-informed neural networks", arXiv 2203.07404).

The collocation points of a space-time problem are split into ``M`` chunks along time; with ``L_i`` the mean
squared PDE residual of chunk ``i``,

    w_i = exp(-eps * sum_{k<i} L_k)        (w_1 = 1; the weights carry no gradient)
    L_r = mean_i (w_i * L_i)

so a chunk only counts once everything before it is resolved. With ``include_initial=True`` the initial
condition's loss starts the cumulative sum, ``w_i = exp(-eps * (L_ic + sum_{k<i} L_k))``.

Chunks are ``"count"``: the points sorted by time and cut into ``M`` chunks of (nearly) equal size (the
default; then ``eps -> 0`` gives exactly the plain mean for ``N`` divisible by ``M``), or ``"interval"``: ``M``
equal time intervals of the domain (empty chunks are skipped). Either way the per-point weight of a point in
chunk ``i`` is ``w_i * N / (M' n_i)`` (``n_i`` points in the chunk, ``M'`` non-empty chunks), so the trainer's
``mean(weight * r^2)`` is exactly ``L_r``.

``epsilon`` is one number (constant, e.g. ``1`` with 16-32 chunks) or an increasing schedule such as
``(1e-2, 1e-1, 1, 10, 100)``: the weighting moves to the next value once ``min_i w_i > advance_at`` (0.99), and
sets :attr:`converged` when that happens at the last value (the paper stops training there).

Under L-BFGS the trainer holds the weights of a chunk's first evaluation through the chunk (its line search
needs one fixed objective; weights that moved with every evaluation stopped it after a few iterations).

Causal weighting reweights the points of any sampler: ``Trainer(..., sampler=pk.sampling.FixedPoints(n),
weighting=pk.weighting.CausalWeighting())`` (``Resample`` gives the fresh-batch-each-step variant, ``R3`` moves
the points by residual).

The authors state a patent claim on commercial use of this method.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from ..checks import check_bool, check_choice, check_open_unit_interval, check_positive_float, check_positive_int
from ..geometry import SpaceTimeDomain
from ..pde import InitialCondition
from .weighting import Weighting

CHUNKINGS = ("count", "interval")


def causal_weights(chunk_losses: Tensor, epsilon: float, initial_loss: Tensor | float = 0.0) -> Tensor:
    """``w_i = exp(-epsilon * (initial_loss + sum_{k<i} L_k))`` for chunk losses ``L`` (M,) in time order."""
    before = torch.cumsum(chunk_losses, 0) - chunk_losses  # exclusive cumulative sum
    return torch.exp(-epsilon * (before + initial_loss))


class CausalWeighting(Weighting):
    """Causal time weighting of the PDE points (see the module docstring); needs a space-time domain.

    Parameters
    ----------
    chunks : int
        Number of time chunks ``M`` (default 32).
    epsilon : float or sequence of float
        Causality parameter, or an increasing schedule of them (see above). Default 1.
    chunking : {"count", "interval"}
        Equal-count chunks of the points sorted by time, or equal time intervals.
    include_initial : bool
        Start the cumulative sum with the weighted loss of the problem's initial conditions
        (:class:`~pinnkit.pde.InitialCondition` terms).
    advance_at : float
        Schedule criterion on ``min_i w_i``.
    """

    def __init__(self, *, chunks: int = 32, epsilon: float | Sequence[float] = 1.0, chunking: str = "count",
                 include_initial: bool = False, advance_at: float = 0.99):
        self.chunks = check_positive_int(chunks, "chunks")
        schedule = (epsilon,) if isinstance(epsilon, (int, float)) else tuple(epsilon)
        if not schedule:
            raise ValueError(f"epsilon must be a positive number or a non-empty sequence of them; got {epsilon!r}")
        schedule = tuple(check_positive_float(e, "epsilon") for e in schedule)
        if any(b <= a for a, b in zip(schedule, schedule[1:], strict=False)):
            raise ValueError(f"an epsilon schedule must be increasing; got {epsilon!r}")
        chunking = check_choice(chunking, "chunking", CHUNKINGS)
        self.schedule, self.chunking = tuple(float(e) for e in schedule), chunking
        self.include_initial = check_bool(include_initial, "include_initial")
        self.advance_at = check_open_unit_interval(advance_at, "advance_at")
        self.stage, self.converged = 0, False
        self.weights_per_chunk: Tensor | None = None  # w_i of the last evaluation, (M,), for inspection and logging
        self._chunk_of: tuple[Tensor, Tensor, Tensor] | None = None  # (points, chunk index, per-chunk count)
        self._initial_terms: tuple[str, ...] = ()

    @property
    def epsilon(self) -> float:
        """The causality parameter in use."""
        return self.schedule[self.stage]

    def setup(self, problem, dtype, device):
        domain = problem.domain
        if not isinstance(domain, SpaceTimeDomain):
            raise ValueError(f"CausalWeighting needs a space-time domain (geometry * TimeDomain); got {domain!r}")
        super().setup(problem, dtype, device)
        self.domain = domain
        self.stage, self.converged, self.weights_per_chunk, self._chunk_of = 0, False, None, None
        self._initial_terms = tuple(c.name for c in problem.conditions if isinstance(c, InitialCondition))

    def chunk_index(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """``(chunk of each point (N,), number of points per chunk (M,))`` for ``points`` (N, d)."""
        t = points[:, -1]
        n = len(t)
        if self.chunking == "count":
            rank = torch.empty(n, dtype=torch.long, device=t.device)
            rank[torch.argsort(t, stable=True)] = torch.arange(n, device=t.device)
            index = rank * self.chunks // max(n, 1)
        else:
            t0, t1 = self.domain.time.t0, self.domain.time.t1
            index = ((t - t0) / (t1 - t0) * self.chunks).floor().long().clamp_(0, self.chunks - 1)
        return index, torch.bincount(index, minlength=self.chunks)

    def _chunks_of(self, points: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        if self._chunk_of is None or self._chunk_of[0] is not points:
            self._chunk_of = (points, *self.chunk_index(points))
        return self._chunk_of

    def chunk_losses(self, points: Tensor, residual: Tensor) -> tuple[Tensor, Tensor]:
        """``(L_i (M,), non-empty mask (M,))``: mean squared residual per chunk of ``points``."""
        _, index, count = self._chunks_of(points)
        sq = residual.square() if residual.ndim == 1 else residual.square().sum(dim=-1)
        sums = torch.zeros(self.chunks, dtype=sq.dtype, device=sq.device).index_add_(0, index, sq)
        filled = count > 0
        return torch.where(filled, sums / count.clamp(min=1).to(sq.dtype), torch.zeros_like(sums)), filled

    def compute(self, points, pde_residual, condition_losses):
        losses, filled = self.chunk_losses(points, pde_residual.detach())
        start = 0.0
        if self.include_initial:
            initial = sum((condition_losses[k].detach() for k in self._initial_terms),
                          torch.zeros((), dtype=self.dtype, device=self.device))
            start = initial.to(losses)
        w = causal_weights(losses, self.epsilon, start)
        self.weights_per_chunk = w
        _, index, count = self._chunk_of
        per_chunk = torch.where(filled, w * len(index) / (int(filled.sum()) * count.clamp(min=1).to(w)),
                                torch.zeros_like(w))
        return per_chunk[index]

    def update(self, step):
        if self.weights_per_chunk is not None and float(self.weights_per_chunk.min()) > self.advance_at:
            if self.stage + 1 < len(self.schedule):
                self.stage += 1
            else:
                self.converged = True

    def info(self) -> dict[str, float]:
        if self.weights_per_chunk is None:
            return {"causal_epsilon": self.epsilon}
        return {"causal_epsilon": self.epsilon, "causal_min_weight": float(self.weights_per_chunk.min())}

    def state_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "converged": self.converged}

    def load_state_dict(self, state):
        self.stage, self.converged = int(state["stage"]), bool(state["converged"])
        self._chunk_of = None
