"""Spaces of random input functions for operator learning, evaluated at sensors or any points.

* :class:`GaussianRandomField`: squared-exponential covariance with a length scale, drawn by an exact
  Cholesky factorisation or a truncated spectral (Karhunen–Loève) expansion.
* :class:`ChebyshevSeries` and :class:`PowerSeries`: random coefficients of polynomial series (both
  :class:`RandomSeries`, a random combination of a fixed basis).

All share :class:`FunctionSpace`: ``features = space.sample(M, seed)`` draws ``M`` functions (seeded), and
``space.evaluate(features, x)`` gives their values (M, N) at points ``x`` (N,), e.g. the sensors of a
:class:`~pinnkit.nets.DeepONet`'s branch net.
"""

from .chebyshev import ChebyshevSeries
from .gaussian_random_field import GRF_METHODS, GaussianRandomField
from .power_series import PowerSeries
from .random_series import RandomSeries
from .space import FunctionSpace

__all__ = ["GRF_METHODS", "ChebyshevSeries", "FunctionSpace", "GaussianRandomField", "PowerSeries", "RandomSeries"]
