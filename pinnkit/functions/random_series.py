r"""Random linear combinations of a fixed basis on an interval ``[a, b]``:

.. math:: v(x) = \sum_{k=0}^{n-1} c_k\, \phi_k(x), \qquad c_k \sim \mathcal{U}[-\text{scale}, \text{scale}]
          \text{ independent},

the common shape of :class:`~pinnkit.functions.ChebyshevSeries` and :class:`~pinnkit.functions.PowerSeries`,
which differ only in their basis :math:`\phi_k`. A function's features are its ``n`` coefficients.
"""

from __future__ import annotations

import abc

import numpy as np

from ..checks import check_positive_float, check_positive_int
from .space import FunctionSpace


class RandomSeries(FunctionSpace):
    """``terms`` basis functions (given by :meth:`basis`) with coefficients uniform in ``[-scale, scale]``."""

    def __init__(self, terms: int, interval=(-1.0, 1.0), scale: float = 1.0):
        super().__init__(interval)
        self.terms = check_positive_int(terms, "terms")
        self.scale = check_positive_float(scale, "scale")

    @abc.abstractmethod
    def basis(self, x: np.ndarray) -> np.ndarray:
        """(N, terms) values of the basis functions at points ``x`` (N,) inside the interval."""

    @property
    def features(self) -> int:
        return self.terms

    def _sample(self, n, rng):
        return rng.uniform(-self.scale, self.scale, (n, self.terms))

    def _evaluate(self, features, x):
        return features @ self.basis(x).T

    def __repr__(self) -> str:
        return f"{type(self).__name__}(terms={self.terms}, interval={self.interval}, scale={self.scale})"
