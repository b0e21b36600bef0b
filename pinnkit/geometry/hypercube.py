"""Axis-aligned boxes in any dimension: :class:`Hypercube` and its named cases ``Interval``, ``Rectangle``,
``Cuboid``."""

from __future__ import annotations

from functools import reduce

import numpy as np
import torch
from torch import Tensor

from ..checks import check_finite_float, check_vector
from .arguments import check_measure, check_names, check_size
from .patch import BoundaryPatch
from .primitive import Primitive, normalize_rows
from .rfunctions import r_and


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
            volume = float(np.prod(sides))
            check_measure(volume, args, "length" if len(sides) == 1 else "volume")
            if len(sides) > 1:
                check_measure(float(sum(volume / sides)), args, "boundary measure")
        self._lo, self._hi = torch.from_numpy(lo), torch.from_numpy(hi)
        super().__init__(len(lo), check_names(names, len(lo)), torch.stack([self._lo, self._hi]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(xmin={self._lo.tolist()}, xmax={self._hi.tolist()})"

    @property
    def measure(self) -> float:
        return float(torch.prod(self._hi - self._lo))

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
        for axis, name in enumerate(self.names):
            faces[f"{name}_min"] = (axis, float(self._lo[axis]))
            faces[f"{name}_max"] = (axis, float(self._hi[axis]))
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
        sides = self._hi - self._lo
        patches = []
        for axis in range(self.dim):
            area = float(torch.prod(torch.cat([sides[:axis], sides[axis + 1:]])))
            for side, value in (("min", self._lo[axis]), ("max", self._hi[axis])):
                extent = tuple(float(s) for i, s in enumerate(sides) if i != axis)
                label = f"{self.names[axis]}_{side}"
                patches.append(BoundaryPatch(area, self.dim - 1, self._face(axis, float(value)), extent=extent,
                                             label=label))
        return patches

    def _face(self, axis: int, value: float):
        keep = [i for i in range(self.dim) if i != axis]

        def to_points(u: Tensor) -> Tensor:
            x = torch.full((len(u), self.dim), value, dtype=torch.float64)
            x[:, keep] = self._lo[keep] + u * (self._hi[keep] - self._lo[keep])
            return x

        return to_points


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
