r"""Taylor-mode derivatives of an aligned :class:`~pinnkit.nets.DeepONet`: every coordinate derivative acts on the
trunk only, so the whole residual needs one forward jet pass of the trunk and no reverse-mode derivative pass.

For ``M`` functions and ``N`` shared points the DeepONet's output ``j`` is

.. math:: u_j[m, n] = \sum_{i=1}^p b_{j}[m, i]\, t_{j}[n, i] + c_j
          \quad\Longrightarrow\quad \partial^\alpha u_j = b_j\, (\partial^\alpha t_j)^\top \quad (\alpha \ne ()),

with branch features ``b`` (M, k, p), trunk features ``t`` (N, k, p) and bias ``c``. The trunk's derivatives
:math:`\partial^\alpha t` for every multi-index asked for (and the lower ones they are built from) come from one
Taylor-mode pass through the trunk (the trunk-jet protocol of :mod:`pinnkit.derivatives.protocol`; a
DeepONet's ``trunk_jet``), costing about as many matrix products
as there are multi-indices in the closure; a linear combination :math:`\sum_i c_i \partial^{\alpha_i} u_j` is
formed on the (N, p) trunk jets first and contracted with the branch once (:meth:`TaylorDerivatives.combine`, used
by :class:`~pinnkit.derivatives.linear_combination.LinearCombination`). Gradients with respect to the parameters
come from one ordinary backward pass of the loss.

Compared with zero coordinate shift (:class:`~pinnkit.derivatives.zcs.ZCSDerivatives`), which needs a reverse pass
per derivative order, another to the dummy ``a`` and then the loss's pass through all of them, this is exact to
round-off too but supports only networks with a trunk jet (pinnkit's DeepONet whose trunks Taylor mode can
propagate through; :func:`~pinnkit.derivatives.protocol.check_trunk_jet`).

The multi-indices to propagate are given up front (``alphas``); one asked for later is computed by an extra jet
pass of its own closure (correct, slower) and listed in :attr:`TaylorDerivatives.requested`, so that a caller can
include it from the next forward pass on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

from .engine import Coefficient, Derivatives
from .multi_index import MultiIndex, normalise
from .protocol import Compiled, check_trunk_jet


class TaylorDerivatives(Derivatives):
    """Derivatives of ``net(v, x)`` for an operator network with a trunk jet at aligned points ``x`` (N, d), from one
    Taylor-mode pass of its trunk (see module docstring).

    ``v``: sensor values (M, m); ``alphas``: the multi-indices to propagate in the first pass; ``compiled``: a
    :class:`~pinnkit.derivatives.protocol.Compiled` cache for the trunk's jet, or ``None``. ``u`` is (M, N, k) and
    ``engine(j, alpha)`` is (M, N), as for the other engines.
    """

    combines_lazily = True

    def __init__(self, net: nn.Module, v: Tensor, x: Tensor, alphas: Iterable[MultiIndex] = (),
                 compiled: Compiled | None = None):
        check_trunk_jet(net)
        self.net, self.v, self.compiled = net, v, compiled
        first_pass = {normalise(a) for a in alphas if a}
        self._first_pass = first_pass
        super().__init__(None, x)
        #: The multi-indices of the first pass and every one asked for since (what the next pass should propagate).
        self.requested: set[MultiIndex] = set(first_pass)

    def _forward(self, _, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.ndim != 2:
            raise ValueError(f"the 'taylor' backend needs aligned points of shape (N, d); got {tuple(x.shape)}")
        x = x.detach()
        self.branch = self.net.branch_features(self.v)  # (M, k, p)
        self.trunk_jet = self.net.trunk_jet(x, self._first_pass, self.compiled)
        u = torch.einsum("mkp,nkp->mnk", self.branch, self.trunk_jet[()]) + self.net.bias
        return x, u

    def trunk(self, alpha: MultiIndex) -> Tensor:
        """``d^alpha`` of the trunk features, (N, k, p); a multi-index outside the first pass gets a pass of its
        own."""
        alpha = normalise(alpha)
        self.requested.add(alpha)
        if alpha not in self.trunk_jet:
            for beta, value in self.net.trunk_jet(self.x, [alpha], self.compiled).items():
                self.trunk_jet.setdefault(beta, value)
        return self.trunk_jet[alpha]

    def _compute(self, output: int, alpha: MultiIndex) -> Tensor:
        return self.branch[:, output] @ self.trunk(alpha)[:, output].T

    def combine(self, output: int, items: Sequence[tuple[MultiIndex, Coefficient]]) -> Tensor:
        """``sum_i c_i d^{alpha_i} u_output`` (M, N) for ``items = [(alpha_i, c_i), ...]`` (non-empty
        multi-indices): the trunk jets are combined first, then contracted with the branch once."""
        combined: Tensor | None = None
        for alpha, c in items:
            t = self.trunk(alpha)[:, output]
            if combined is None:
                combined = t if isinstance(c, (int, float)) and c == 1 else t * c
            elif isinstance(c, Tensor):
                combined = combined + t * c
            else:
                combined = combined + t * c  # not torch.add(alpha=c): see pinnkit.training.fused_step
        if combined is None:
            raise ValueError("combine needs at least one (multi-index, coefficient) pair")
        return self.branch[:, output] @ combined.T
