"""A rotated ellipse in 2-D."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ..checks import check_finite_float, check_positive_float, check_vector
from .arguments import check_measure, check_names, check_size
from .patch import BoundaryPatch
from .primitive import Primitive, normalize_rows


class Ellipse(Primitive):
    """The closed ellipse with semi-axes ``semimajor >= semiminor > 0`` along the directions at ``angle`` and
    ``angle + pi/2`` (radians), centred at ``center``.

    In local coordinates ``(p, q)`` (major, minor axis) the domain is ``(p/a)^2 + (q/b)^2 <= 1``.

    * Signed distance: exact, by Eberly's bisection for the closest point ("Distance from a point to an
      ellipse", Geometric Tools, 2013), 64 bisection steps in the working precision.
    * Approximate distance: ``f / sqrt(|grad f|^2 + (f / b)^2)`` with ``f = 1 - (p/a)^2 - (q/b)^2``: smooth
      everywhere, normalised on the boundary, ``= b`` at the centre.
    * Boundary points are uniform in arc length (arc-length table of 16385 angles); interior points are the
      affine image of uniform disk points.
    """

    def __init__(self, center, semimajor: float, semiminor: float, angle: float = 0.0, *, names=None):
        c = check_vector(center, "center", 2)
        self.a = check_positive_float(semimajor, "semimajor")
        self.b = check_positive_float(semiminor, "semiminor")
        if self.b > self.a:
            raise ValueError(f"semimajor must be >= semiminor; got semimajor={self.a}, semiminor={self.b} "
                             "(swap them and add pi/2 to angle)")
        self.angle = check_finite_float(angle, "angle")
        with np.errstate(over="ignore"):
            scale = float(np.abs(c).max() + self.a)
            check_size(self.b, scale, "center, semimajor and semiminor", "semiminor axis")
            for value, what in ((np.float64(self.a) ** 2, "squared semimajor axis"),
                                ((np.float64(self.a) / self.b) ** 2, "squared axis ratio semimajor / semiminor"),
                                (4 * np.float64(self.a) * math.pi, "perimeter")):
                check_measure(float(value), "semimajor and semiminor", what)
        cs, sn = math.cos(self.angle), math.sin(self.angle)
        self._c = torch.from_numpy(c)
        self._rot = torch.tensor([[cs, -sn], [sn, cs]], dtype=torch.float64)  # columns: major, minor axis
        half = torch.tensor([math.hypot(self.a * cs, self.b * sn), math.hypot(self.a * sn, self.b * cs)],
                            dtype=torch.float64)
        super().__init__(2, check_names(names, 2), torch.stack([self._c - half, self._c + half]))
        theta = np.linspace(0.0, 2 * np.pi, 16385)
        speed = np.hypot(self.a * np.sin(theta), self.b * np.cos(theta))
        self._arc_theta = theta
        self._arc_length = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * np.diff(theta))])

    def __repr__(self) -> str:
        return (f"Ellipse(center={self._c.tolist()}, semimajor={self.a}, semiminor={self.b}, "
                f"angle={self.angle})")

    @property
    def measure(self) -> float:
        return math.pi * self.a * self.b

    @property
    def boundary_measure(self) -> float:
        """Perimeter (trapezoidal rule on a periodic integrand: accurate to round-off)."""
        return float(self._arc_length[-1])

    def _local(self, x: Tensor) -> Tensor:
        return (x - self._c.to(x)) @ self._rot.to(x)

    def _global(self, local: Tensor) -> Tensor:
        return self._c + local @ self._rot.T

    def _sdf(self, x: Tensor) -> Tensor:
        local = self._local(x)
        y0, y1 = local[:, 0].abs(), local[:, 1].abs()
        e0, e1 = self.a, self.b
        inside = (y0 / e0) ** 2 + (y1 / e1) ** 2 < 1
        # General case y0 > 0, y1 > 0: closest point (r0 y0 / (w - 1 + r0), y1 / w), where w > 0 is the root of
        # G(w) = (r0 z0 / (w - 1 + r0))^2 + (z1 / w)^2 - 1 (Eberly's s + 1). G decreases in w; the root is
        # bracketed by [z1, |(r0 z0, z1)|] and found by bisection of log w, which keeps full relative
        # precision also when w is tiny (points near the major axis inside the evolute).
        z0, z1 = y0 / e0, y1 / e1
        r0 = (e0 / e1) ** 2
        tiny = torch.finfo(x.dtype).tiny
        lo = z1.clamp(min=tiny).log()
        hi = torch.where(z0**2 + z1**2 < 1, torch.ones_like(z0), torch.hypot(r0 * z0, z1)).clamp(min=tiny).log()
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            w = mid.exp()
            big = (r0 * z0 / (w - 1 + r0)) ** 2 + (z1 / w) ** 2 - 1 > 0
            lo, hi = torch.where(big, mid, lo), torch.where(big, hi, mid)
        w = (0.5 * (lo + hi)).exp()
        general = torch.hypot(r0 * y0 / (w - 1 + r0) - y0, y1 / w - y1)
        # On the major axis (y1 = 0): inside the evolute the closest point is off the axis.
        denom = e0**2 - e1**2
        xde0 = (e0 * y0 / denom).clamp(max=1.0) if denom > 0 else torch.ones_like(y0)
        on_major = torch.where(
            e0 * y0 < denom,
            torch.hypot(e0 * xde0 - y0, e1 * torch.sqrt((1 - xde0**2).clamp(min=0))),
            (y0 - e0).abs(),
        )
        dist = torch.where(y1 > 0, torch.where(y0 > 0, general, (y1 - e1).abs()), on_major)
        return torch.where(inside, -dist, dist)

    def _normal(self, x: Tensor, tol: float) -> Tensor:
        local = self._local(x)
        grad = torch.stack([local[:, 0] / self.a**2, local[:, 1] / self.b**2], dim=1)
        return normalize_rows(grad @ self._rot.to(x).T)

    def _adf(self, x: Tensor) -> Tensor:
        local = self._local(x)
        f = 1 - (local[:, 0] / self.a) ** 2 - (local[:, 1] / self.b) ** 2
        grad2 = (2 * local[:, 0] / self.a**2) ** 2 + (2 * local[:, 1] / self.b**2) ** 2
        return f / torch.sqrt(grad2 + (f / self.b) ** 2)

    def _interior_map(self, u: Tensor) -> Tensor:
        r, theta = torch.sqrt(u[:, 0]), 2 * math.pi * u[:, 1]
        local = torch.stack([self.a * r * torch.cos(theta), self.b * r * torch.sin(theta)], dim=1)
        return self._global(local)

    def _boundary_patches(self) -> list[BoundaryPatch]:
        def to_points(u: Tensor) -> Tensor:
            theta = torch.from_numpy(np.interp(u[:, 0].numpy() * self._arc_length[-1], self._arc_length,
                                               self._arc_theta))
            return self._global(torch.stack([self.a * torch.cos(theta), self.b * torch.sin(theta)], dim=1))

        return [BoundaryPatch(self.boundary_measure, 1, to_points)]
