r"""Random Chebyshev series on an interval ``[a, b]``:

.. math:: v(x) = \sum_{k=0}^{n-1} c_k\, T_k(\xi), \qquad \xi = \frac{2x - a - b}{b - a} \in [-1, 1],

with Chebyshev polynomials :math:`T_k` and coefficients :math:`c_k` uniform in ``[-scale, scale]``.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import chebyshev

from .random_series import RandomSeries


class ChebyshevSeries(RandomSeries):
    """``terms`` Chebyshev polynomials with coefficients uniform in ``[-scale, scale]``; see the module docstring."""

    def basis(self, x: np.ndarray) -> np.ndarray:
        """(N, terms): :math:`T_k(\\xi(x))` for k = 0, ..., terms - 1."""
        a, b = self.interval
        xi = ((x - a) - (b - x)) / (b - a)
        return chebyshev.chebvander(xi, self.terms - 1)
