"""A smooth piece of a boundary, parametrised by the unit cube: what geometries sample their boundaries from."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

Mask = Tensor  # bool (N,)


@dataclass(frozen=True)
class BoundaryPatch:
    """A smooth piece of a boundary, parametrised by the unit cube ``(0, 1)^dim``.

    ``to_points`` maps ``(m, dim)`` float64 parameters to ``(m, d)`` float64 points so that uniform parameters
    give points uniform by length / area on the piece; ``measure`` is the piece's length / area (1 for a point).
    ``keep`` (optional) filters candidate points, for pieces only partly on the boundary (CSG).
    ``extent`` (dim,) gives the lengths of the parameter directions, so that ``"uniform"`` grids have
    near-square cells. ``label`` names the piece for :class:`~pinnkit.geometry.Boundary` selection (a box's
    faces are ``"x_min"``, ``"x_max"``, ...). ``log_measure`` (optional) is the exact log of ``measure``, for
    pieces of high-dimensional domains whose measure under- or overflows float64 (:func:`patch_weights`).
    """

    measure: float
    dim: int
    to_points: Callable[[Tensor], Tensor]
    keep: Callable[[Tensor], Mask] | None = None
    extent: tuple[float, ...] | None = None
    label: str | None = None
    log_measure: float | None = None

    @property
    def exact_log_measure(self) -> float:
        """``log(measure)``: ``log_measure`` where given, else from ``measure`` (``-inf`` for a zero measure)."""
        if self.log_measure is not None:
            return self.log_measure
        return math.log(self.measure) if self.measure > 0 else -math.inf


def patch_weights(patches: Sequence[BoundaryPatch]) -> np.ndarray:
    """Weights (len(patches),) proportional to the patches' measures: the measures themselves where they and
    their sum are positive finite floats, else ``exp(log_measure - max log_measure)``, so that measures that
    under- or overflow float64 (high dimensions) still share points correctly. All zero where all are zero."""
    measures = np.array([p.measure for p in patches], dtype=np.float64)
    with np.errstate(over="ignore"):
        if len(measures) and np.all((measures > 0) & np.isfinite(measures)) and np.isfinite(measures.sum()):
            return measures
    logs = np.array([p.exact_log_measure for p in patches], dtype=np.float64)
    top = logs.max() if len(logs) else -math.inf
    return np.exp(logs - top) if np.isfinite(top) else np.zeros(len(logs))


def finite_points(patches: list[BoundaryPatch]) -> list[Tensor]:
    """The points (1, d) of ``patches`` that are all points (``dim == 0``: the ends of an interval) and pass their
    filters."""
    pts = [p.to_points(torch.zeros(1, 0, dtype=torch.float64)) for p in patches]
    return [x for x, p in zip(pts, patches, strict=True) if p.keep is None or bool(p.keep(x).item())]
