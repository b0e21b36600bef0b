r"""Zero-coordinate-shift derivatives (Leng, Shankar & Thiyagalingam, arXiv 2311.00860): :class:`ZCSDerivatives`.

One scalar leaf per coordinate, ``z`` (d,) = 0, shifts every point: ``u = net(x + z)``. With a dummy
``a = ones_like(u)`` and the single scalar root :math:`\omega = \sum a \odot u`,

.. math:: \partial^\alpha u = \partial_a \big[\partial_z^\alpha \omega\big],

because shifting all points by :math:`z_i` is the same as differentiating each output with respect to its own
:math:`x_i`. The scalar derivatives of :math:`\omega` are cached per multi-index, each built from the closest
cached lower order; only the final :math:`\partial_a` is per-point, so the graph stays small even when ``u`` has
many functions (operator learning). A linear combination is linear in ``a`` too,
:math:`\sum_i c_i \partial^{\alpha_i} u = \partial_a (\sum_i c_i \omega_{\alpha_i})`, so :meth:`ZCSDerivatives.combine`
needs one backward pass to ``a`` for the whole combination.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .engine import Derivatives, _grad
from .multi_index import MultiIndex, normalise, parent


class ZCSDerivatives(Derivatives):
    """Zero-coordinate-shift derivatives of ``net`` at ``x`` (..., d) (see the module docstring)."""

    combines_lazily = True

    def _forward(self, net, x):
        x = x.detach()
        self.z = torch.zeros(x.shape[-1], dtype=x.dtype, device=x.device, requires_grad=True)
        u = net(x + self.z)
        self.a = torch.ones_like(u, requires_grad=True)
        self._omega: dict[MultiIndex, Tensor] = {(): (self.a * u).sum()}
        self._fields: dict[MultiIndex, Tensor] = {}
        return x, u

    def omega(self, alpha: MultiIndex) -> Tensor:
        r"""The scalar :math:`\partial_z^\alpha \omega` (with graph), cached."""
        if alpha not in self._omega:
            lower, _ = parent(alpha, lambda p: p in self._omega)
            g = _grad(self.omega(lower), self.z)  # all d/dz_i of the parent scalar, one backward pass
            for i in range(self.dim):
                self._omega.setdefault(normalise(lower + (i,)), g[i])
        return self._omega[alpha]

    def field(self, alpha: MultiIndex) -> Tensor:
        """``d^alpha u`` for all outputs at once, shape of ``u``: ``d/da`` of ``omega(alpha)``."""
        if alpha not in self._fields:
            self._fields[alpha] = _grad(self.omega(alpha), self.a)
        return self._fields[alpha]

    def _compute(self, output, alpha):
        return self.field(alpha)[..., output]

    def combine(self, output, items):
        """One backward pass to ``a`` for the combination of the scalars ``omega(alpha_i)`` (module docstring)."""
        if not items:
            raise ValueError("combine needs at least one (multi-index, coefficient) pair")
        for alpha, _ in items:
            self.requested.add(normalise(alpha))
        scalar = sum(c * self.omega(normalise(alpha)) for alpha, c in items)
        return _grad(scalar, self.a)[..., output]
