"""Balls in any dimension: :class:`Hypersphere` and its named cases ``Disk`` (2-D) and ``Sphere`` (3-D)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ..checks import check_positive_float, check_vector
from .arguments import check_log_measure, check_names, check_size, exp_measure
from .patch import BoundaryPatch
from .primitive import Primitive, normalize_rows
from .unit_samples import DIRECT_RANDOM_DIM


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


#: Largest dimension whose ``Gamma(d/2 + 1)`` is a finite float64 (``Gamma(171) ~ 7e306``): the volume formulas are
#: evaluated directly up to it (as they always were) and through ``lgamma`` beyond.
_GAMMA_DIM = 340


def ball_log_volume(dim: int, radius: float) -> float:
    """``log`` of the volume of a ``dim``-ball of ``radius``: ``(d/2) log(pi) - lgamma(d/2 + 1) + d log(r)``."""
    return dim / 2 * math.log(math.pi) - math.lgamma(dim / 2 + 1) + dim * math.log(radius)


def sphere_log_area(dim: int, radius: float) -> float:
    """``log`` of the area of the sphere bounding a ``dim``-ball of ``radius``:
    ``log(2) + (d/2) log(pi) - lgamma(d/2) + (d - 1) log(r)``."""
    return math.log(2.0) + dim / 2 * math.log(math.pi) - math.lgamma(dim / 2) + (dim - 1) * math.log(radius)


def gaussian_directions(n: int, dim: int, rng: np.random.Generator) -> Tensor:
    """``n`` independent uniform unit vectors (n, dim) float64: ``z / |z|`` with ``z ~ N(0, I_dim)`` (the normal
    law is rotation invariant), in O(n dim) with no loop over the coordinates."""
    z = torch.from_numpy(rng.standard_normal((n, dim)))
    return z / torch.linalg.vector_norm(z, dim=1, keepdim=True)


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
        scale = float(np.abs(c).max() + self.radius)
        check_size(self.radius, scale, "center and radius", "radius")
        d = len(c)
        check_log_measure(ball_log_volume(d, self.radius), d, "radius", "volume")
        check_log_measure(sphere_log_area(d, self.radius), d - 1, "radius", "boundary measure")
        self._c = torch.from_numpy(c)
        super().__init__(len(c), check_names(names, len(c)), torch.stack([self._c - self.radius,
                                                                           self._c + self.radius]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(center={self._c.tolist()}, radius={self.radius})"

    @property
    def measure(self) -> float:
        """Volume ``pi^(d/2) r^d / Gamma(d/2 + 1)``; ``0.0`` or ``inf`` where it under- or overflows float64 (high
        ``d``: ``log_measure`` is exact)."""
        d = self.dim
        if d <= _GAMMA_DIM:
            with np.errstate(over="ignore", under="ignore"):
                value = float(math.pi ** (d / 2) / math.gamma(d / 2 + 1) * np.float64(self.radius) ** d)
            if 0 < value < math.inf:
                return value
        return exp_measure(self.log_measure)

    @property
    def boundary_measure(self) -> float:
        """Surface area ``2 pi^(d/2) r^(d-1) / Gamma(d/2)``; ``0.0`` or ``inf`` where it under- or overflows
        float64 (``log_boundary_measure`` is exact)."""
        d = self.dim
        if d <= _GAMMA_DIM:
            with np.errstate(over="ignore", under="ignore"):
                value = float(2 * math.pi ** (d / 2) / math.gamma(d / 2) * np.float64(self.radius) ** (d - 1))
            if 0 < value < math.inf:
                return value
        return exp_measure(self.log_boundary_measure)

    @property
    def log_measure(self) -> float:
        return ball_log_volume(self.dim, self.radius)

    @property
    def log_boundary_measure(self) -> float:
        return sphere_log_area(self.dim, self.radius)

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
        return [BoundaryPatch(self.boundary_measure, self.dim - 1, to_points, extent=extent,
                              log_measure=self.log_boundary_measure)]

    def _random_interior(self, n: int, rng: np.random.Generator) -> Tensor | None:
        """``n`` uniform interior points (n, d) in O(n d) for ``d >= DIRECT_RANDOM_DIM`` (else ``None``): a
        uniform direction ``z / |z|`` with ``z ~ N(0, I_d)`` times the radius ``r U^(1/d)``, ``U ~ U(0, 1)``,
        whose law ``P(|x - c| <= s) = (s / r)^d`` is that of the volume."""
        if self.dim < DIRECT_RANDOM_DIM:
            return None
        directions = gaussian_directions(n, self.dim, rng)
        radii = self.radius * torch.from_numpy(rng.random(n)) ** (1.0 / self.dim)
        return self._c + radii[:, None] * directions

    def _random_boundary(self, n: int, rng: np.random.Generator, faces: tuple[str, ...] | None
                         ) -> Tensor | None:
        """``n`` uniform points (n, d) of the sphere, ``c + r z / |z|`` with ``z ~ N(0, I_d)``, in O(n d) for
        ``d >= DIRECT_RANDOM_DIM`` (else ``None``). A ball has no named faces, so ``faces`` is always ``None``."""
        if self.dim < DIRECT_RANDOM_DIM:
            return None
        return self._c + self.radius * gaussian_directions(n, self.dim, rng)


class Disk(Hypersphere):
    """The closed disk ``|x - center| <= radius`` in 2-D, coordinates ``x, y``."""

    def __init__(self, center, radius: float, *, names=None):
        super().__init__(center, radius, names=names, _dim=2)


class Sphere(Hypersphere):
    """The closed ball ``|x - center| <= radius`` in 3-D, coordinates ``x, y, z``."""

    def __init__(self, center, radius: float, *, names=None):
        super().__init__(center, radius, names=names, _dim=3)
