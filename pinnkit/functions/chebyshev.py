r"""Random Chebyshev series on an interval ``[a, b]``:

.. math:: v(x) = \sum_{k=0}^{n-1} c_k\, T_k(\xi), \qquad \xi = \frac{2x - a - b}{b - a} \in [-1, 1],

with Chebyshev polynomials :math:`T_k` and coefficients :math:`c_k` uniform in ``[-scale, scale]``.
"""

from __future__ import annotations

from numpy.polynomial import chebyshev

from ..nets.mlp import check_positive_float, check_positive_int
from .space import FunctionSpace


class ChebyshevSeries(FunctionSpace):
    """``terms`` Chebyshev polynomials with coefficients uniform in ``[-scale, scale]``; see the module docstring."""

    def __init__(self, terms: int, interval=(-1.0, 1.0), scale: float = 1.0):
        super().__init__(interval)
        self.terms = check_positive_int(terms, "terms")
        self.scale = check_positive_float(scale, "scale")

    @property
    def features(self) -> int:
        return self.terms

    def _sample(self, n, rng):
        return rng.uniform(-self.scale, self.scale, (n, self.terms))

    def _evaluate(self, features, x):
        a, b = self.interval
        xi = ((x - a) - (b - x)) / (b - a)
        return features @ chebyshev.chebvander(xi, self.terms - 1).T

    def __repr__(self) -> str:
        return f"ChebyshevSeries(terms={self.terms}, interval={self.interval}, scale={self.scale})"
