"""Simple polygons (convex or not) in 2-D: :class:`Polygon` and :class:`Triangle`."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..checks import check_array, check_vector
from .arguments import check_names
from .patch import BoundaryPatch
from .primitive import Primitive, normalize_rows

_LARGEST = 1e150  # coordinates whose squares (areas) stay finite
_CHUNK = 2**21  # point-edge pairs per vectorised block (bounds memory for polygons with many edges)


def _orient(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Twice the signed area of the triangles (a, b, c); arrays broadcast over leading axes."""
    return (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])


def _self_intersections(v: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of edges (i, i+1), (j, j+1) of the closed polyline ``v`` that touch although they should not:
    non-adjacent edges that meet, and adjacent edges that fold back onto each other."""
    e = len(v)
    p, q = v, np.roll(v, -1, axis=0)
    scale = np.abs(v).max() + np.ptp(v, axis=0).max()
    eps = 1e-12 * scale**2
    a, b = p[:, None], q[:, None]
    c, d = p[None, :], q[None, :]
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)

    def on_segment(s0, s1, r):  # r collinear with s0-s1 and within its bounding box
        return np.all((np.minimum(s0, s1) - 1e-12 * scale <= r) & (r <= np.maximum(s0, s1) + 1e-12 * scale),
                      axis=-1)

    proper = (o1 * o2 < -eps * eps) & (o3 * o4 < -eps * eps)
    touch = ((np.abs(o1) <= eps) & on_segment(a, b, c)) | ((np.abs(o2) <= eps) & on_segment(a, b, d)) \
        | ((np.abs(o3) <= eps) & on_segment(c, d, a)) | ((np.abs(o4) <= eps) & on_segment(c, d, b))
    i, j = np.meshgrid(np.arange(e), np.arange(e), indexing="ij")
    adjacent = (j == (i + 1) % e) | (i == (j + 1) % e) | (i == j)
    bad = [(int(s), int(t)) for s, t in zip(*np.nonzero((proper | touch) & ~adjacent & (i < j)), strict=True)]
    # adjacent edges folding back: collinear and pointing in opposite directions
    d1, d2 = q - p, np.roll(q - p, -1, axis=0)
    cross = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    fold = (np.abs(cross) <= eps) & ((d1 * d2).sum(axis=1) < 0)
    bad += [(int(k), int((k + 1) % e)) for k in np.nonzero(fold)[0]]
    return bad


class Polygon(Primitive):
    """A simple polygon (no self-intersections, convex or not) with the given vertices in order.

    ``vertices``: ``(V, 2)``, ``V >= 3``, clockwise or counter-clockwise (stored counter-clockwise); a closing
    vertex equal to the first is dropped.

    * Signed distance: exact; the minimum distance to the edges, negative inside (even-odd crossing rule).
    * Normal: outward normal of the edge; at a vertex the normalised sum of the two edges' normals.
    * Approximate distance: Sukumar & Srivastava (2022) trimmed edge functions ``phi_i`` combined by
      R-equivalence ``phi = 1 / sum_i(1 / phi_i)``, signed: positive inside.
    * Interior points are kept from a bounding-box sample; boundary points are uniform in arc length.
    """

    def __init__(self, vertices, *, names=None):
        v = check_array(vertices, "vertices", ("V", 2))
        if len(v) > 1 and np.array_equal(v[0], v[-1]):
            v = v[:-1]
        if len(v) < 3:
            raise ValueError(f"vertices must hold at least 3 distinct points; got {len(v)}")
        if float(np.abs(v).max()) > _LARGEST:
            raise ValueError(f"vertices must have coordinates of magnitude at most {_LARGEST:g} (areas and "
                             f"lengths must be finite); got {float(np.abs(v).max())!r}")
        if np.any(np.all(v == np.roll(v, -1, axis=0), axis=1)):
            raise ValueError("vertices must not repeat a point twice in a row")
        area = 0.5 * float(np.sum(_orient(np.zeros(2), v, np.roll(v, -1, axis=0))))
        if abs(area) <= 1e-14 * float(np.ptp(v, axis=0).max()) ** 2 and np.all(
                np.abs(_orient(v[0], v[1], v)) <= 1e-14 * float(np.ptp(v, axis=0).max()) ** 2):
            raise ValueError("vertices must enclose a positive area; they all lie on one line")
        bad = _self_intersections(v)
        if bad:
            i, j = bad[0]
            raise ValueError(f"vertices must form a simple polygon: edge {i} ({v[i].tolist()} -> "
                             f"{v[(i + 1) % len(v)].tolist()}) intersects edge {j} ({v[j].tolist()} -> "
                             f"{v[(j + 1) % len(v)].tolist()})")
        if area < 0:
            v = v[::-1].copy()
        self.vertices = torch.from_numpy(v)
        self._area = abs(area)
        edges = torch.roll(self.vertices, -1, dims=0) - self.vertices
        self._lengths = torch.linalg.vector_norm(edges, dim=1)
        self._normals = torch.stack([edges[:, 1], -edges[:, 0]], dim=1) / self._lengths[:, None]
        super().__init__(2, check_names(names, 2), torch.stack([self.vertices.min(0).values,
                                                                 self.vertices.max(0).values]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.vertices.tolist()})"

    @property
    def measure(self) -> float:
        return self._area

    @property
    def boundary_measure(self) -> float:
        return float(self._lengths.sum())

    def _edges(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Start points ``v`` and edge vectors ``e`` (E, 2) in the dtype and device of ``x``."""
        v = self.vertices.to(x)
        return v, torch.roll(v, -1, dims=0) - v

    def _edge_distances(self, x: Tensor) -> Tensor:
        """Distances (N, E) from each point to each edge (closed segment)."""
        v, e = self._edges(x)
        rel = x[:, None, :] - v[None]  # (N, E, 2)
        t = ((rel * e).sum(-1) / (e * e).sum(-1)).clamp(0, 1)
        return torch.linalg.vector_norm(rel - t[..., None] * e, dim=-1)

    def _crossings_odd(self, x: Tensor) -> Tensor:
        """Even-odd rule: does a ray from each point in the +x direction cross an odd number of edges? (N,)

        One pass of column operations per edge keeps memory at O(N) for any number of edges.
        """
        v, e = self._edges(x)
        px, py = x[:, 0], x[:, 1]
        odd = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        for (vx, vy), (ex, ey) in zip(v.tolist(), e.tolist(), strict=True):
            if ey == 0:
                continue  # a horizontal edge is never straddled
            straddle = (py > vy) != (py > vy + ey)
            odd ^= straddle & (px < vx + (py - vy) * (ex / ey))
        return odd

    def _near_boundary(self, x: Tensor, tol: float) -> Tensor:
        """Points within ``tol`` of some edge's line: a superset of the boundary points, found cheaply."""
        v, e = self._edges(x)
        near = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        for (vx, vy), (ex, ey), length in zip(v.tolist(), e.tolist(), self._lengths.tolist(), strict=True):
            near |= ((x[:, 0] - vx) * (ey / length) - (x[:, 1] - vy) * (ex / length)).abs() <= tol
        return near

    def _classify(self, x: Tensor, tol: float):
        # Exact distances only where a point is within tol of an edge's line (|line distance| <= distance).
        odd = self._crossings_odd(x)
        boundary = torch.zeros_like(odd)
        normal = torch.zeros_like(x)
        idx = self._near_boundary(x, tol).nonzero().squeeze(1)
        if len(idx):
            on = self._edge_distances(x[idx]).min(dim=1).values <= tol
            idx = idx[on]
            boundary[idx] = True
            normal[idx] = self._normal(x[idx], tol)
        return odd & ~boundary, boundary, normal

    def _chunks(self, x: Tensor):
        size = max(1, _CHUNK // len(self.vertices))
        return x.split(size) if len(x) > size else (x,)

    def _sdf(self, x: Tensor) -> Tensor:
        out = [self._edge_distances(xc).min(dim=1).values for xc in self._chunks(x)]
        dist = torch.cat(out) if out else x.new_zeros(0)
        return torch.where(self._crossings_odd(x), -dist, dist)

    def _normal(self, x: Tensor, tol: float) -> Tensor:
        dist = self._edge_distances(x)
        near = (dist <= tol) | (dist == dist.min(dim=1, keepdim=True).values)
        return normalize_rows(near.to(x.dtype) @ self._normals.to(x))

    def _adf(self, x: Tensor) -> Tensor:
        v = self.vertices.to(x)
        w = torch.roll(v, -1, dims=0)
        length = self._lengths.to(x)
        centre = 0.5 * (v + w)
        rel = x[:, None, :] - v[None]
        e = w - v
        f = (rel[..., 0] * e[:, 1] - rel[..., 1] * e[:, 0]) / length  # signed distance to the edge's line
        t = ((length / 2) ** 2 - ((x[:, None, :] - centre) ** 2).sum(-1)) / length  # trimming disk
        varphi = torch.sqrt(t**2 + f**4)
        phi = torch.sqrt(f**2 + ((varphi - t) / 2) ** 2)
        unsigned = 1.0 / (1.0 / phi).sum(dim=1)
        return torch.where(self._crossings_odd(x), unsigned, -unsigned)

    def _boundary_patches(self) -> list[BoundaryPatch]:
        patches = []
        for k in range(len(self.vertices)):
            p0, p1 = self.vertices[k], self.vertices[(k + 1) % len(self.vertices)]
            patches.append(BoundaryPatch(float(self._lengths[k]), 1,
                                         lambda u, p0=p0, p1=p1: p0 + u * (p1 - p0)))
        return patches


class Triangle(Polygon):
    """The triangle with vertices ``a, b, c`` (any orientation; not collinear)."""

    def __init__(self, a, b, c, *, names=None):
        a, b, c = (check_vector(p, name, 2) for p, name in ((a, "a"), (b, "b"), (c, "c")))
        v = np.stack([a, b, c])
        if float(np.abs(v).max()) <= _LARGEST and abs(float(_orient(a, b, c))) <= 1e-14 * float(
                np.ptp(v, axis=0).max()) ** 2:
            raise ValueError(f"a, b and c must not lie on one line (a triangle of positive area); got a={a.tolist()}, "
                             f"b={b.tolist()}, c={c.tolist()}")
        super().__init__(v, names=names)
