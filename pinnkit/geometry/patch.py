"""A smooth piece of a boundary, parametrised by the unit cube: what geometries sample their boundaries from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
    faces are ``"x_min"``, ``"x_max"``, ...).
    """

    measure: float
    dim: int
    to_points: Callable[[Tensor], Tensor]
    keep: Callable[[Tensor], Mask] | None = None
    extent: tuple[float, ...] | None = None
    label: str | None = None


def finite_points(patches: list[BoundaryPatch]) -> list[Tensor]:
    """The points (1, d) of ``patches`` that are all points (``dim == 0``: the ends of an interval) and pass their
    filters."""
    pts = [p.to_points(torch.zeros(1, 0, dtype=torch.float64)) for p in patches]
    return [x for x, p in zip(pts, patches, strict=True) if p.keep is None or bool(p.keep(x).item())]
