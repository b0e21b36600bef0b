r"""Gaussian random fields on an interval: zero mean, squared-exponential covariance.

.. math:: \mathbb{E}[v(x) v(y)] = \sigma^2 \exp\!\left(-\frac{(x - y)^2}{2 \ell^2}\right)

with length scale :math:`\ell` and variance :math:`\sigma^2`. Functions are drawn on a uniform grid of ``grid``
points of the interval and interpolated between them (cubic splines by default, which is smooth and accurate
for :math:`\ell` much larger than the grid spacing). Two ways to draw the grid values, both exact in
distribution up to the stated truncation:

* ``method="cholesky"``: :math:`v = L \xi` with :math:`K + \epsilon I = L L^\top` (the exact covariance
  factorisation; a jitter :math:`\epsilon = 10^{-10} \sigma^2`, grown tenfold until the factorisation succeeds, since
  this covariance is numerically singular). Features are the ``grid`` values.
* ``method="spectral"`` (Karhunen–Loève): :math:`v = \sum_{k \le r} \sqrt{\lambda_k}\, \xi_k\, \phi_k` from the
  eigenpairs :math:`(\lambda_k, \phi_k)` of :math:`K`, keeping the ``r`` largest that carry all but a fraction
  ``tolerance`` of the total variance. Features are the ``r`` coefficients :math:`\xi_k` (about 30 for
  :math:`\ell = 0.2` on ``[0, 1]``), so evaluation at ``N`` points is one (M, r) x (r, N) product.

:math:`\xi` is standard normal, drawn from the given seed.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline

from ..checks import check_choice, check_int, check_open_unit_interval, check_positive_float
from .space import FunctionSpace

#: How a :class:`GaussianRandomField` draws its functions: an exact Cholesky factorisation of the covariance on a
#: grid, or a truncated spectral (Karhunen–Loève) expansion.
GRF_METHODS = ("cholesky", "spectral")
INTERPOLATIONS = ("cubic", "linear")


class GaussianRandomField(FunctionSpace):
    """Zero-mean Gaussian random field with squared-exponential covariance; see the module docstring.

    Arguments
    ---------
    length_scale: :math:`\\ell > 0`.
    interval: ``(a, b)``, default ``(0, 1)``.
    variance: :math:`\\sigma^2 > 0`, default 1.
    method: ``"cholesky"`` (exact factorisation) or ``"spectral"`` (truncated Karhunen–Loève).
    grid: number of grid points (default 1000).
    interpolation: ``"cubic"`` (spline, default) or ``"linear"``, between grid points.
    tolerance: fraction of the total variance the spectral method may drop (default 1e-10).
    """

    def __init__(self, length_scale: float, interval=(0.0, 1.0), variance: float = 1.0, method: str = "cholesky",
                 grid: int = 1000, interpolation: str = "cubic", tolerance: float = 1e-10):
        super().__init__(interval)
        self.length_scale = check_positive_float(length_scale, "length_scale")
        self.variance = check_positive_float(variance, "variance")
        self.method = check_choice(method, "method", GRF_METHODS)
        self.interpolation = check_choice(interpolation, "interpolation", INTERPOLATIONS)
        self.grid_size = check_int(grid, "grid", minimum=4)
        self.tolerance = check_open_unit_interval(tolerance, "tolerance")
        self.grid = np.linspace(*self.interval, self.grid_size)
        cov = self.covariance(self.grid, self.grid)
        if method == "cholesky":
            self.factor = _jittered_cholesky(cov, self.variance)
        else:
            lam, phi = np.linalg.eigh(cov)
            lam, phi = lam[::-1].clip(min=0.0), phi[:, ::-1]
            tail = np.cumsum(lam[::-1])[::-1] / lam.sum()  # tail[k]: fraction of variance in modes k, k+1, ...
            rank = int(np.argmax(np.append(tail[1:], 0.0) <= self.tolerance)) + 1
            self.factor = phi[:, :rank] * np.sqrt(lam[:rank])  # grid values = factor @ xi
            if interpolation == "cubic":
                self._modes = CubicSpline(self.grid, self.factor, axis=0)  # the r modes, interpolated once

    def covariance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The covariance matrix :math:`\\sigma^2 \\exp(-(x_i - y_j)^2 / (2 \\ell^2))` of points x (N,), y (P,)."""
        d = np.subtract.outer(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        return self.variance * np.exp(-0.5 * (d / self.length_scale) ** 2)

    @property
    def features(self) -> int:
        return self.factor.shape[1]

    def _sample(self, n, rng):
        return rng.standard_normal((n, self.features))

    def _grid_values(self, features: np.ndarray) -> np.ndarray:
        return features @ self.factor.T  # (M, grid)

    def _interpolate(self, values: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Interpolate grid values (..., grid) at x (N,) along the last axis."""
        if self.interpolation == "cubic":
            return CubicSpline(self.grid, values, axis=-1)(x)
        idx = np.clip(np.searchsorted(self.grid, x) - 1, 0, self.grid_size - 2)
        w = (x - self.grid[idx]) / (self.grid[idx + 1] - self.grid[idx])
        return values[..., idx] * (1 - w) + values[..., idx + 1] * w

    def _evaluate(self, features, x):
        if self.method == "spectral":  # interpolate the r modes, not the M functions
            modes = self._modes(x).T if self.interpolation == "cubic" else self._interpolate(self.factor.T, x)
            return features @ modes
        return self._interpolate(self._grid_values(features), x)

    def __repr__(self) -> str:
        return (f"GaussianRandomField(length_scale={self.length_scale}, interval={self.interval}, "
                f"variance={self.variance}, method={self.method!r}, grid={self.grid_size}, features={self.features})")


def _jittered_cholesky(cov: np.ndarray, variance: float) -> np.ndarray:
    jitter = 1e-10 * variance
    eye = np.eye(len(cov))
    for _ in range(8):
        try:
            return np.linalg.cholesky(cov + jitter * eye)
        except np.linalg.LinAlgError:
            jitter *= 10
    raise ValueError("the covariance could not be factorised even with a jitter of 1e-3 * variance; use "
                     "method='spectral'")
