r"""Random polynomials in monomial form on an interval ``[a, b]``:

.. math:: v(x) = \sum_{k=0}^{n-1} c_k\, x^k,

with coefficients :math:`c_k` uniform in ``[-scale, scale]``. (Monomials are badly conditioned at high degree;
prefer :class:`~pinnkit.functions.ChebyshevSeries` beyond a few terms.)
"""

from __future__ import annotations

import numpy as np

from .random_series import RandomSeries


class PowerSeries(RandomSeries):
    """``terms`` monomials ``1, x, ..., x^(terms-1)`` with coefficients uniform in ``[-scale, scale]``."""

    def basis(self, x: np.ndarray) -> np.ndarray:
        """(N, terms): ``1, x, ..., x^(terms-1)``."""
        return np.vander(x, self.terms, increasing=True)
