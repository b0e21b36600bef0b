r"""Reverse-mode derivatives on the coordinates: :class:`AutogradDerivatives`.

The points ``x`` (N, d) are a leaf that requires grad; :math:`\partial u_j / \partial x` for all ``d`` coordinates
comes from one backward pass of :math:`\sum_n u_j(x_n)` (a pointwise net makes the sum's gradient the per-point
gradient), and every higher order from the cached order below it (the siblings of a backward pass are cached
too). Works for any pointwise network.
"""

from __future__ import annotations

from .engine import Derivatives, _grad
from .multi_index import normalise, parent


class AutogradDerivatives(Derivatives):
    """Reverse-mode derivatives of ``net`` at ``x`` (..., d) (see the module docstring)."""

    def _forward(self, net, x):
        x = x.detach().requires_grad_(True)
        return x, net(x)

    def _compute(self, output, alpha):
        lower, _ = parent(alpha, lambda p: not p or (output, p) in self._cache)
        g = _grad(self(output, lower).sum(), self.x)  # all first partials of the parent, one backward pass
        for i in range(self.dim):  # siblings come for free
            self._cache.setdefault((output, normalise(lower + (i,))), g[..., i])
        return self._cache[(output, alpha)]
