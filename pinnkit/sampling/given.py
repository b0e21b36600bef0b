"""Collocation points the user gives: alone, or added to another sampler's (DeepXDE's ``anchors=``).

``GivenPoints(points)`` evaluates the PDE at exactly ``points``; ``GivenPoints(points, sampler)`` at ``points``
followed by the points of ``sampler`` (fixed, resampled or adaptive), so anchors near a singularity, on the
boundary or at the data sites stay put while the other points move::

    ends = domain.boundary.sample(2)                       # the PDE at the ends of an interval too
    pk.Trainer(problem, net, sampler=pk.sampling.GivenPoints(ends, pk.sampling.FixedPoints(16)))

The inner sampler sees only its own rows: its points, and its part of the residual in :meth:`update`; a weighting
of the inner sampler (Causal R3's gate) weights all points, the given ones included.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..checks import check_array
from ..geometry import Geometry
from ..weighting import Weighting
from .sampler import Sampler


class GivenPoints(Sampler):
    """The PDE at given ``points`` (N, d), followed by the points of ``sampler`` if one is given.

    Parameters
    ----------
    points : array-like (N, d)
        Finite points in the problem's coordinate order; they must lie in the closed domain (boundary points are
        allowed: the PDE is asked to hold there too).
    sampler : Sampler, optional
        Further points (its own, fixed or moving).
    """

    def __init__(self, points, sampler: Sampler | None = None):
        given = torch.as_tensor(check_array(points, "GivenPoints: points", ("N", "d")))
        if len(given) == 0:
            raise ValueError("GivenPoints: points must hold at least one point (N >= 1)")
        if sampler is not None and not isinstance(sampler, Sampler):
            raise ValueError(f"GivenPoints: sampler must be a pinnkit Sampler or None; got {type(sampler).__name__}")
        self.given, self.inner = given.to(torch.float64), sampler
        self._points: Tensor | None = None
        self._inner_points: Tensor | None = None

    def claim(self, owner: object, argument: str) -> None:
        super().claim(owner, argument)
        if self.inner is not None:
            self.inner.claim(owner, argument)

    def setup(self, domain: Geometry, rng: np.random.Generator, dtype: torch.dtype, device: torch.device,
              residual=None) -> None:
        super().setup(domain, rng, dtype, device, residual)
        if self.given.shape[1] != domain.dim:
            raise ValueError(f"GivenPoints: points must have {domain.dim} columns {domain.names}; got "
                             f"{self.given.shape[1]}")
        outside = ~domain.inside(self.given)  # the closed domain: boundary points are welcome
        if bool(outside.any()):
            raise ValueError(f"GivenPoints: {int(outside.sum())} of the {len(self.given)} points lie outside "
                             f"{domain!r} (e.g. {self.given[outside][0].tolist()})")
        self._given = self.given.to(dtype=dtype, device=device)
        if self.inner is not None:
            self.inner.setup(domain, rng, dtype, device, residual)
        self._points = self._inner_points = None

    def points(self, step: int) -> Tensor:
        if self.inner is None:
            return self._given
        inner = self.inner.points(step)
        if inner is not self._inner_points:  # the inner sampler moved: a new tensor, so the trainer notices
            self._points, self._inner_points = torch.cat([self._given, inner]), inner
        return self._points

    @property
    def uses_residual(self) -> bool:  # the given points stay; the inner sampler's rows go to it
        return self.inner is not None and self.inner.uses_residual

    def weighting(self) -> Weighting | None:
        return None if self.inner is None else self.inner.weighting()

    def update(self, step: int, residual: Tensor | None) -> None:
        if self.inner is not None:
            self.inner.update(step, None if residual is None else residual[len(self._given):])

    def info(self) -> dict[str, float]:
        return {} if self.inner is None else self.inner.info()

    def state_dict(self) -> dict[str, Any]:
        return {"inner": None if self.inner is None else self.inner.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.inner is not None:
            self.inner.load_state_dict(state["inner"])
        self._points = self._inner_points = None
