"""The weighting abstraction: weights of the loss terms that come from the residuals of the step they weight.

A PINN's PDE loss with a weighting is

    L_pde = mean_i (w_i r_i^2)

with per-point weights ``w`` (N,) computed from this step's own detached residuals (and the conditions' loss
terms) before the loss is formed: causal time weighting (:class:`~pinnkit.weighting.CausalWeighting`), the
time gate of Causal R3, fixed per-point weights of a refined point set (:class:`PointWeights`). A weighting
may instead return per-term weights, ``{term: weight}`` with a 0-d weight or one weight per point of the term.

The trainer calls :meth:`Weighting.weights` once per evaluation and :meth:`Weighting.update` once after each
step. While held (:meth:`Weighting.hold`, through each quasi-Newton chunk, whose line search needs one fixed
objective) the weights of the first evaluation at the same points are reused. Weights carry no gradient.

Points are the sampler's business (:mod:`pinnkit.sampling`), weights the weighting's: the two are separate
arguments of the trainer, and a sampler whose method comes with weights (Causal R3) supplies them as a
weighting of its own (:meth:`pinnkit.sampling.Sampler.weighting`), which is multiplied with the user's.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from ..ownership import TrainerPart

#: What a weighting returns: per-point weights (N,) for every PDE term, or weights per term.
Weights = Tensor | Mapping[str, Tensor] | None


class Weighting(TrainerPart, abc.ABC):
    """Weights of the loss terms (see the module docstring); one trainer's at a time (:mod:`pinnkit.ownership`)."""

    _hold: bool = False
    _held: tuple[Tensor, Weights] | None = None

    def setup(self, problem: Any, dtype: torch.dtype, device: torch.device) -> None:
        """Called once by the trainer before training with the :class:`~pinnkit.Problem`; a weighting that does
        not fit the problem raises a ``ValueError`` here."""
        self.problem, self.dtype, self.device = problem, dtype, device
        self._held = None

    @abc.abstractmethod
    def compute(self, points: Tensor, pde_residual: Tensor, condition_losses: Mapping[str, Tensor]) -> Weights:
        """The weights for the PDE points ``points`` (N, d), given the detached PDE residual there ((N,) for one
        PDE term, (N, m) for m terms) and the conditions' detached weighted loss terms ``w_k L_k``."""

    def weights(self, points: Tensor, pde_residual: Tensor, condition_losses: Mapping[str, Tensor]) -> Weights:
        """:meth:`compute`, or while held the weights of the first evaluation at the same ``points``."""
        if self._hold and self._held is not None and self._held[0] is points:
            return self._held[1]
        out = self.compute(points, pde_residual, condition_losses)
        if self._hold:
            self._held = (points, out)
        return out

    def hold(self, hold: bool) -> None:
        """Keep (``True``) or release (``False``) the weights of the next evaluation."""
        self._hold, self._held = bool(hold), None

    def update(self, step: int) -> None:
        """After step ``step`` (0-based): advance schedules. Default: nothing."""
        del step


class PointWeights(Weighting):
    """Fixed per-point weights ``w`` (N,) of the PDE terms, for a sampler whose N points do not move (e.g. a set
    refined near a singularity whose extra points are weighted down)."""

    def __init__(self, weights: Tensor):
        w = torch.as_tensor(weights, dtype=torch.float64)
        if w.ndim != 1 or len(w) == 0 or not bool(torch.isfinite(w).all()) or bool((w < 0).any()):
            raise ValueError(f"weights must be a non-empty 1-D array of finite non-negative numbers; got shape "
                             f"{tuple(w.shape)}")
        self.values = w

    def setup(self, problem, dtype, device):
        super().setup(problem, dtype, device)
        self._w = self.values.to(dtype=dtype, device=device)

    def compute(self, points, pde_residual, condition_losses):
        if len(points) != len(self._w):
            raise ValueError(f"PointWeights has {len(self._w)} weights for {len(points)} points: it needs a sampler "
                             "whose points do not change in number")
        return self._w

    def state_dict(self):
        return {"weights": self.values}

    def load_state_dict(self, state):
        self.values = state["weights"].to(torch.float64)
        self._w = self.values.to(dtype=self.dtype, device=self.device)


class Product(Weighting):
    """The product of several weightings (per-point weights multiplied in the order given)."""

    def __init__(self, parts: Sequence[Weighting]):
        self.parts = [p for p in parts if p is not None]
        for p in self.parts:
            if not isinstance(p, Weighting):
                raise ValueError(f"weightings must be pinnkit Weightings; got {type(p).__name__}")

    def setup(self, problem, dtype, device):
        super().setup(problem, dtype, device)
        self.pde_terms = tuple(problem.pde_terms)
        for p in self.parts:
            p.setup(problem, dtype, device)

    def compute(self, points, pde_residual, condition_losses):
        out: Weights = None
        for p in self.parts:
            out = multiply(out, p.weights(points, pde_residual, condition_losses), self.pde_terms)
        return out

    def weights(self, points, pde_residual, condition_losses):
        return self.compute(points, pde_residual, condition_losses)  # each part holds its own

    def hold(self, hold):
        for p in self.parts:
            p.hold(hold)

    def update(self, step):
        for p in self.parts:
            p.update(step)

    def info(self):
        return {k: v for p in self.parts for k, v in p.info().items()}

    def state_dict(self):
        return {"parts": [p.state_dict() for p in self.parts]}

    def load_state_dict(self, state):
        for p, s in zip(self.parts, state["parts"], strict=True):
            p.load_state_dict(s)


def multiply(a: Weights, b: Weights, pde_terms: Sequence[str] = ()) -> Weights:
    """The product of two weights (None is all ones; per-point weights (N,) apply to every PDE term).

    Per-term weights (mappings) multiply term by term, a term missing from one mapping having weight 1 there; a
    per-point tensor times a mapping applies the tensor to each of ``pde_terms`` (the problem's PDE terms) and
    leaves the mapping's condition terms as they are."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a * b
    if (isinstance(a, Tensor) or isinstance(b, Tensor)) and not pde_terms:
        raise ValueError("per-point weights combine with per-term weights (a mapping) only given the PDE terms")
    ma = {k: a for k in pde_terms} if isinstance(a, Tensor) else dict(a)
    mb = {k: b for k in pde_terms} if isinstance(b, Tensor) else dict(b)
    return {k: ma[k] * mb[k] if k in ma and k in mb else ma.get(k, mb.get(k)) for k in {**ma, **mb}}


def combine(weightings: Sequence[Weighting | None]) -> Weighting | None:
    """One weighting from several (None for none, the weighting itself for one)."""
    parts = [w for w in weightings if w is not None]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Product(parts)
