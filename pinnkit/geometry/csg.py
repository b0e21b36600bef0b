"""Constructive solid geometry: union ``a | b``, intersection ``a & b`` and difference ``a - b``.

Membership is decided from the operands' own classifications (open interior, boundary, normal) so that
nesting to any depth stays exact at seams:

* A point on the boundaries of both operands is on the result's boundary unless the outward normals of the
  contributing pieces cancel: two boxes sharing a face have that face *inside* their union, and a difference
  that removes a piece flush with the outer boundary removes that boundary too.
* Normals at points where pieces of both operands meet are the normalised sum of the contributing normals.
  Each operand contributes its own normal there, so where a *corner* of one operand touches a face of the
  other (e.g. at the end of a flush cut), the result is outward but not the symmetric bisector of the two
  faces that remain.

The signed distance is the usual min / max composition (exact outside a union, a bound elsewhere), the
approximate distance the R-function composition (:mod:`pinnkit.geometry.rfunctions`). Boundary samples come
from the boundaries of the primitives (each sampled uniformly at the same density) that lie on the result's
boundary, so they are uniform by length / area and contain no duplicates; interior samples are kept from a
bounding-box sample, with the quasi-random sequences drawn once, so they never repeat a point.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import Tensor

from .geometry import Geometry
from .patch import BoundaryPatch, Mask
from .primitive import normalize_rows
from .rfunctions import r_and, r_or


class CSG(Geometry):
    """Base of the Boolean combinations; ``a`` and ``b`` are geometries of the same dimension and names."""

    symbol = "?"
    seam_is_interior = False  # where the contributing normals cancel: interior (union) or outside (others)

    def __init__(self, a: Geometry, b: Geometry):
        from .space_time import SpaceTimeDomain

        for name, g in (("a", a), ("b", b)):
            if not isinstance(g, Geometry):
                raise TypeError(f"CSG operand {name} must be a Geometry; got {type(g).__name__}")
            if isinstance(g, SpaceTimeDomain):
                raise TypeError("combine the spatial geometries first, then multiply by the TimeDomain: "
                                "(a - b) * TimeDomain(t0, t1)")
        if a.dim != b.dim:
            raise ValueError(f"CSG operands must have the same dimension; got {a.dim}-D {a!r} and {b.dim}-D {b!r}")
        if a.names != b.names:
            raise ValueError(f"CSG operands must have the same coordinate names; got {a.names} and {b.names}")
        self.a, self.b = a, b
        super().__init__(a.dim, a.names, self._bounding_box(a.bbox, b.bbox))

    def _bounding_box(self, box_a: Tensor, box_b: Tensor) -> Tensor:
        return box_a

    def __repr__(self) -> str:
        return f"({self.a!r} {self.symbol} {self.b!r})"

    def _leaves(self) -> list[Geometry]:
        return self.a._leaves() + self.b._leaves()

    b_normal_sign = 1.0  # a difference turns b's outward normal inward

    def _combine(self, ia: Mask, ba: Mask, ib: Mask, bb: Mask) -> tuple[Mask, Mask, Mask]:
        """From the operands' masks: (interior, a's boundary contributes, b's boundary contributes)."""
        raise NotImplementedError

    def _classify(self, x: Tensor, tol: float) -> tuple[Mask, Mask, Tensor]:
        ia, ba, na = self.a._classify(x, tol)
        ib, bb, nb = self.b._classify(x, tol)
        interior, ca, cb = self._combine(ia, ba, ib, bb)
        boundary = ca | cb
        normal = torch.zeros_like(x)
        idx = boundary.nonzero().squeeze(1)  # normals are summed on boundary candidates only
        if len(idx):
            total = na[idx] * ca[idx, None] + self.b_normal_sign * nb[idx] * cb[idx, None]
            cancel = ca[idx] & cb[idx] & (torch.linalg.vector_norm(total, dim=1)
                                          <= 4 * torch.finfo(x.dtype).eps ** 0.5)
            boundary[idx[cancel]] = False
            if self.seam_is_interior:
                interior[idx[cancel]] = True
            normal[idx] = torch.where(cancel[:, None], torch.zeros_like(total), normalize_rows(total))
        return interior, boundary, normal

    def _boundary_patches(self) -> list[BoundaryPatch]:
        leaves = self._leaves()
        patches = []
        for k, leaf in enumerate(leaves):
            def keep(x: Tensor, earlier=leaves[:k]) -> Mask:
                tol = self.tol(x.dtype)
                on = self._classify(x, tol)[1]
                for other in earlier:  # a piece shared with an earlier leaf is sampled there only
                    on = on & ~other._classify(x, tol)[1]
                return on

            patches += [replace(p, keep=keep, label=None) for p in leaf._boundary_patches()]
        return patches


class Union(CSG):
    """Points in ``a`` or in ``b``."""

    symbol = "|"
    seam_is_interior = True  # two pieces glued face to face: the shared face is inside the union

    def _bounding_box(self, box_a: Tensor, box_b: Tensor) -> Tensor:
        return torch.stack([torch.minimum(box_a[0], box_b[0]), torch.maximum(box_a[1], box_b[1])])

    def _combine(self, ia, ba, ib, bb):
        return ia | ib, ba & ~ib, bb & ~ia

    def _sdf(self, x: Tensor) -> Tensor:
        return torch.minimum(self.a._sdf(x), self.b._sdf(x))

    def _adf(self, x: Tensor) -> Tensor:
        return r_or(self.a._adf(x), self.b._adf(x))


class Intersection(CSG):
    """Points in both ``a`` and ``b``."""

    symbol = "&"

    def _bounding_box(self, box_a: Tensor, box_b: Tensor) -> Tensor:
        bbox = torch.stack([torch.maximum(box_a[0], box_b[0]), torch.minimum(box_a[1], box_b[1])])
        if torch.any(bbox[1] <= bbox[0]):
            raise ValueError(f"the intersection of {self.a!r} and {self.b!r} is empty (their bounding boxes "
                             "do not overlap)")
        return bbox

    def _combine(self, ia, ba, ib, bb):
        return ia & ib, ba & (ib | bb), bb & (ia | ba)

    def _sdf(self, x: Tensor) -> Tensor:
        return torch.maximum(self.a._sdf(x), self.b._sdf(x))

    def _adf(self, x: Tensor) -> Tensor:
        return r_and(self.a._adf(x), self.b._adf(x))


class Difference(CSG):
    """Points in ``a`` and not in the interior of ``b`` (the closure of ``a`` minus ``b``)."""

    symbol = "-"
    b_normal_sign = -1.0

    def _combine(self, ia, ba, ib, bb):
        return ia & ~(ib | bb), ba & ~ib, bb & (ia | ba)

    def _sdf(self, x: Tensor) -> Tensor:
        return torch.maximum(self.a._sdf(x), -self.b._sdf(x))

    def _adf(self, x: Tensor) -> Tensor:
        return r_and(self.a._adf(x), -self.b._adf(x))
