"""Axis-aligned boxes in any dimension: :class:`Hypercube` and its named cases ``Interval``, ``Rectangle``,
``Cuboid``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import reduce

import numpy as np
import torch
from torch import Tensor

from ..checks import check_finite_float, check_vector
from .arguments import check_log_measure, check_names, check_size, exp_measure
from .patch import BoundaryPatch
from .primitive import Primitive, normalize_rows
from .rfunctions import r_and
from .unit_samples import DIRECT_RANDOM_DIM


class Hypercube(Primitive):
    """The box ``[lo_1, hi_1] x … x [lo_d, hi_d]``.

    Signed distance (exact): with ``q = |x - c| - h`` (centre ``c``, half-sides ``h``),
    ``sdf = |max(q, 0)| + min(max_i q_i, 0)``. Approximate distance: the R-conjunction of the per-axis
    ``(x_i - lo_i)(hi_i - x_i) / (hi_i - lo_i)``. The boundary is its ``2d`` faces.
    """

    _bound_names = ("xmin", "xmax")  # the arguments the bounds come from, for messages

    def __init__(self, xmin, xmax, *, names=None):
        lo = check_vector(xmin, "xmin")
        hi = check_vector(xmax, "xmax", len(lo))
        if np.any(hi <= lo):
            raise ValueError(f"xmin must be < xmax in every coordinate (a box of positive width); "
                             f"got xmin={lo.tolist()}, xmax={hi.tolist()}")
        args = " and ".join(self._bound_names)
        with np.errstate(over="ignore"):
            sides = hi - lo
            scale = float(max(np.abs(lo).max(), np.abs(hi).max()))
            for side in sides.tolist():
                check_size(side, scale, args, "width")
            d = len(sides)
            check_log_measure(box_log_volume(sides), d, args, "length" if d == 1 else "volume")
            if d > 1:
                check_log_measure(box_log_boundary(sides), d - 1, args, "boundary measure")
        self._lo, self._hi = torch.from_numpy(lo), torch.from_numpy(hi)
        super().__init__(len(lo), check_names(names, len(lo)), torch.stack([self._lo, self._hi]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(xmin={self._lo.tolist()}, xmax={self._hi.tolist()})"

    @property
    def measure(self) -> float:
        """Volume ``prod_i (hi_i - lo_i)``; ``0.0`` or ``inf`` where it under- or overflows float64 (high ``d``:
        ``log_measure`` is exact)."""
        value = float(torch.prod(self._hi - self._lo))
        return value if 0 < value < math.inf else exp_measure(self.log_measure)

    @property
    def boundary_measure(self) -> float:
        """Total face area ``2 sum_i prod_{j != i} s_j`` (``2``, the end points, in 1-D); ``0.0`` or ``inf`` where it
        under- or overflows float64 (``log_boundary_measure`` is exact)."""
        if self.dim == 1:
            return 2.0
        if self.dim < DIRECT_RANDOM_DIM:
            value = super().boundary_measure  # the sum over the faces, as it always was
            if 0 < value < math.inf:
                return value
        return exp_measure(self.log_boundary_measure)

    @property
    def log_measure(self) -> float:
        return box_log_volume((self._hi - self._lo).numpy())

    @property
    def log_boundary_measure(self) -> float:
        return math.log(2.0) if self.dim == 1 else box_log_boundary((self._hi - self._lo).numpy())

    def _sdf(self, x: Tensor) -> Tensor:
        lo, hi = self._lo.to(x), self._hi.to(x)
        q = torch.maximum(lo - x, x - hi)
        return torch.linalg.vector_norm(q.clamp(min=0), dim=1) + q.max(dim=1).values.clamp(max=0)

    def _normal(self, x: Tensor, tol: float) -> Tensor:
        lo, hi = self._lo.to(x), self._hi.to(x)
        n = ((x - hi).abs() <= tol).to(x.dtype) - ((x - lo).abs() <= tol).to(x.dtype)
        return normalize_rows(n)

    def _adf(self, x: Tensor) -> Tensor:
        lo, hi = self._lo.to(x), self._hi.to(x)
        per_axis = (x - lo) * (hi - x) / (hi - lo)
        return reduce(r_and, per_axis.unbind(dim=1))

    def _periodic_axes(self) -> tuple[int, ...]:
        return tuple(range(self.dim))

    def _faces(self) -> dict[str, tuple[int, float]]:
        faces = {}
        for axis, (name, lo, hi) in enumerate(zip(self.names, self._lo.tolist(), self._hi.tolist(), strict=True)):
            faces[f"{name}_min"] = (axis, lo)
            faces[f"{name}_max"] = (axis, hi)
        return faces

    def _face_aliases(self) -> dict[str, str]:
        """``left`` / ``right`` for the first axis, and ``bottom`` / ``top`` for the second in 2-D."""
        aliases = {"left": f"{self.names[0]}_min", "right": f"{self.names[0]}_max"}
        if self.dim == 2:
            aliases.update(bottom=f"{self.names[1]}_min", top=f"{self.names[1]}_max")
        return aliases

    def _interior_map(self, u: Tensor) -> Tensor:
        return self._lo + u * (self._hi - self._lo)

    def _boundary_patches(self) -> list[BoundaryPatch]:
        """The ``2d`` faces, each built in O(1) (its extent and map are formed when used), so that listing them
        costs O(d) and not O(d^2) in high dimensions."""
        sides = self._hi - self._lo
        log_sides = torch.log(sides)
        log_volume = float(log_sides.sum())
        log_areas = (log_volume - log_sides).tolist()
        patches = []
        for axis, (name, lo, hi) in enumerate(zip(self.names, self._lo.tolist(), self._hi.tolist(), strict=True)):
            if self.dim < DIRECT_RANDOM_DIM:  # the product of the other sides, as it always was
                area = float(torch.prod(torch.cat([sides[:axis], sides[axis + 1:]])))
            else:
                area = exp_measure(log_areas[axis])
            extent = _SidesWithout(sides, axis)
            for side, value in (("min", lo), ("max", hi)):
                patches.append(BoundaryPatch(area, self.dim - 1, self._face(axis, value), extent=extent,
                                             label=f"{name}_{side}", log_measure=log_areas[axis]))
        return patches

    def _face(self, axis: int, value: float):
        def to_points(u: Tensor) -> Tensor:
            """Parameters (m, d - 1) -> points (m, d) of the face ``x_axis = value``."""
            lo, side = self._lo, self._hi - self._lo
            x = torch.empty((len(u), self.dim), dtype=torch.float64)
            x[:, :axis] = lo[:axis] + u[:, :axis] * side[:axis]
            x[:, axis] = value
            x[:, axis + 1:] = lo[axis + 1:] + u[:, axis:] * side[axis + 1:]
            return x

        return to_points

    def _random_boundary(self, n: int, rng: np.random.Generator, faces: tuple[str, ...] | None
                         ) -> Tensor | None:
        """``n`` uniform points (n, d) on the named ``faces`` (``None``: all ``2d``) in O(n d + d), for
        ``d >= DIRECT_RANDOM_DIM`` (else ``None``).

        Each point picks its face independently with probability proportional to the face's area
        ``V / s_axis`` (from logs: ``V`` may under- or overflow), then all its coordinates are uniform in the box
        and the face's coordinate is set to the face's value: one tensor operation for all points.
        """
        if self.dim < DIRECT_RANDOM_DIM:
            return None
        if faces is None:
            axes, upper = np.repeat(np.arange(self.dim), 2), np.tile([False, True], self.dim)
        else:
            known = self._faces()
            axes = np.array([known[f][0] for f in faces], dtype=np.int64)
            upper = np.array([f.endswith("_max") for f in faces], dtype=bool)
        log_area = -np.log((self._hi - self._lo).numpy())[axes]  # log(V / s_axis) up to the common log V
        p = np.exp(log_area - log_area.max())
        face = rng.choice(len(axes), size=n, p=p / p.sum())
        lo, hi = self._lo, self._hi
        x = lo + torch.from_numpy(rng.random((n, self.dim))) * (hi - lo)
        axis = torch.from_numpy(axes[face])
        x[torch.arange(n), axis] = torch.where(torch.from_numpy(upper[face]), hi[axis], lo[axis])
        return x


class _SidesWithout(Sequence):
    """The side lengths ``sides`` (d,) without entry ``axis``, as a lazy read-only sequence: the extent of a box
    face, formed only when a ``"uniform"`` grid asks for it (``np.asarray``), so 2d faces cost O(d), not O(d^2)."""

    def __init__(self, sides: Tensor, axis: int):
        self._sides, self._axis = sides, axis

    def __len__(self) -> int:
        return len(self._sides) - 1

    def __getitem__(self, i):
        return tuple(self)[i]

    def __iter__(self):
        return iter(self._values().tolist())

    def __add__(self, other: tuple) -> tuple:
        return tuple(self) + tuple(other)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        values = self._values()
        return values if dtype is None else values.astype(dtype)

    def _values(self) -> np.ndarray:
        return np.delete(self._sides.numpy(), self._axis)


def box_log_volume(sides: np.ndarray) -> float:
    """``log prod_i s_i = sum_i log s_i`` for the side lengths ``sides`` (d,)."""
    return float(np.log(sides).sum())


def box_log_boundary(sides: np.ndarray) -> float:
    """``log`` of the total face area ``2 sum_i prod_{j != i} s_j = 2 V sum_i 1 / s_i`` of a box with sides
    ``sides`` (d,), ``d >= 2``: ``log 2 + log V + logsumexp(-log s)``."""
    neg = -np.log(sides)
    top = float(neg.max())
    return math.log(2.0) + box_log_volume(sides) + top + math.log(float(np.exp(neg - top).sum()))


class Interval(Hypercube):
    """The interval ``[a, b]`` (1-D), coordinate ``x`` by default. Its boundary is the two points ``a, b``."""

    _bound_names = ("a", "b")

    def __init__(self, a: float, b: float, *, names=None):
        a, b = check_finite_float(a, "a"), check_finite_float(b, "b")
        if not a < b:
            raise ValueError(f"Interval needs a < b (positive width); got a={a}, b={b}")
        super().__init__([a], [b], names=names)
        self.a, self.b = a, b

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.a}, {self.b})"


class Rectangle(Hypercube):
    """The rectangle ``[xmin[0], xmax[0]] x [xmin[1], xmax[1]]``, coordinates ``x, y``."""

    def __init__(self, xmin, xmax, *, names=None):
        super().__init__(check_vector(xmin, "xmin", 2), check_vector(xmax, "xmax", 2), names=names)


class Cuboid(Hypercube):
    """The box ``[xmin, xmax]`` in 3-D, coordinates ``x, y, z``."""

    def __init__(self, xmin, xmax, *, names=None):
        super().__init__(check_vector(xmin, "xmin", 3), check_vector(xmax, "xmax", 3), names=names)
