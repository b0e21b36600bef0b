"""Balls in any dimension: :class:`Hypersphere` and its named cases ``Disk`` (2-D) and ``Sphere`` (3-D)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ..checks import check_positive_float, check_vector
from .arguments import check_measure, check_names, check_size
from .patch import BoundaryPatch
from .primitive import Primitive, normalize_rows


def _inverse_sin_power_cdf(u: Tensor, power: int) -> Tensor:
    """Angles in ``[0, pi]`` with density proportional to ``sin(phi)^power``, from uniform ``u``."""
    if power == 0:
        return math.pi * u
    if power == 1:
        return torch.arccos(1.0 - 2.0 * u)
    phi = np.linspace(0.0, np.pi, 8193)
    pdf = np.sin(phi) ** power
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]))])
    return torch.from_numpy(np.interp(u.numpy(), cdf / cdf[-1], phi))


def sphere_directions(u: Tensor, dim: int) -> Tensor:
    """Unit vectors in R^dim from parameters ``u`` (m, dim - 1) in (0, 1), measure-preserving.

    Hyperspherical coordinates: polar angles ``phi_1 .. phi_{d-2}`` in ``[0, pi]`` with densities proportional
    to ``sin^{d-1-k}(phi_k)`` (inverse-CDF mapped) and an azimuth ``2 pi u_{d-1}``. Uniform ``u`` gives
    uniform directions, a grid in ``u`` an equal-area grid (d = 3: Archimedes' map ``z = 1 - 2u``).
    """
    x = torch.empty(len(u), dim, dtype=torch.float64)
    sines = torch.ones(len(u), dtype=torch.float64)
    for k in range(dim - 2):
        phi = _inverse_sin_power_cdf(u[:, k], dim - 2 - k)
        x[:, k] = sines * torch.cos(phi)
        sines = sines * torch.sin(phi)
    azimuth = 2.0 * math.pi * u[:, -1]
    x[:, dim - 2] = sines * torch.cos(azimuth)
    x[:, dim - 1] = sines * torch.sin(azimuth)
    return x


class Hypersphere(Primitive):
    """The closed ball ``|x - center| <= radius`` in ``d >= 2`` dimensions.

    Signed distance (exact) ``|x - c| - r``; approximate distance ``(r^2 - |x - c|^2) / (2 r)``; normal
    ``(x - c) / |x - c|``. Interior samples use ``r u^(1/d)`` times a measure-preserving direction map.
    """

    def __init__(self, center, radius: float, *, names=None, _dim: int | None = None):
        c = check_vector(center, "center", _dim)
        if len(c) < 2:
            raise ValueError(f"center must have at least 2 coordinates (use Interval in 1-D); got {c.tolist()}")
        self.radius = check_positive_float(radius, "radius")
        with np.errstate(over="ignore"):
            scale = float(np.abs(c).max() + self.radius)
            check_size(self.radius, scale, "center and radius", "radius")
            d, r = len(c), np.float64(self.radius)
            for value, what in ((math.pi ** (d / 2) / math.gamma(d / 2 + 1) * r**d, "volume"),
                                (2 * math.pi ** (d / 2) / math.gamma(d / 2) * r ** (d - 1), "boundary measure")):
                check_measure(float(value), "radius", what)
        self._c = torch.from_numpy(c)
        super().__init__(len(c), check_names(names, len(c)), torch.stack([self._c - self.radius,
                                                                           self._c + self.radius]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(center={self._c.tolist()}, radius={self.radius})"

    @property
    def measure(self) -> float:
        d = self.dim
        return math.pi ** (d / 2) / math.gamma(d / 2 + 1) * self.radius**d

    @property
    def boundary_measure(self) -> float:
        d = self.dim
        return 2 * math.pi ** (d / 2) / math.gamma(d / 2) * self.radius ** (d - 1)

    def _sdf(self, x: Tensor) -> Tensor:
        return torch.linalg.vector_norm(x - self._c.to(x), dim=1) - self.radius

    def _normal(self, x: Tensor, tol: float) -> Tensor:
        return normalize_rows(x - self._c.to(x))

    def _adf(self, x: Tensor) -> Tensor:
        r2 = ((x - self._c.to(x)) ** 2).sum(dim=1)
        return (self.radius**2 - r2) / (2 * self.radius)

    def _interior_map(self, u: Tensor) -> Tensor:
        r = self.radius * u[:, :1] ** (1.0 / self.dim)
        return self._c + r * sphere_directions(u[:, 1:], self.dim)

    def _boundary_patches(self) -> list[BoundaryPatch]:
        def to_points(u: Tensor) -> Tensor:
            return self._c + self.radius * sphere_directions(u, self.dim)

        extent = (math.pi * self.radius,) * (self.dim - 2) + (2 * math.pi * self.radius,)
        return [BoundaryPatch(self.boundary_measure, self.dim - 1, to_points, extent=extent)]


class Disk(Hypersphere):
    """The closed disk ``|x - center| <= radius`` in 2-D, coordinates ``x, y``."""

    def __init__(self, center, radius: float, *, names=None):
        super().__init__(center, radius, names=names, _dim=2)


class Sphere(Hypersphere):
    """The closed ball ``|x - center| <= radius`` in 3-D, coordinates ``x, y, z``."""

    def __init__(self, center, radius: float, *, names=None):
        super().__init__(center, radius, names=names, _dim=3)
