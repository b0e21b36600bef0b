r"""Random polynomials in monomial form on an interval ``[a, b]``:

.. math:: v(x) = \sum_{k=0}^{n-1} c_k\, x^k,

with coefficients :math:`c_k` uniform in ``[-scale, scale]``. (Monomials are badly conditioned at high degree;
prefer :class:`~pinnkit.functions.ChebyshevSeries` beyond a few terms.)
"""

from __future__ import annotations

import numpy as np

from ..nets.mlp import check_positive_float, check_positive_int
from .space import FunctionSpace


class PowerSeries(FunctionSpace):
    """``terms`` monomials ``1, x, ..., x^(terms-1)`` with coefficients uniform in ``[-scale, scale]``."""

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
        return features @ np.vander(x, self.terms, increasing=True).T

    def __repr__(self) -> str:
        return f"PowerSeries(terms={self.terms}, interval={self.interval}, scale={self.scale})"
