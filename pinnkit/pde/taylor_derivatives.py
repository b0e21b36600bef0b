r"""Taylor-mode derivatives of an aligned :class:`~pinnkit.nets.DeepONet`: every coordinate derivative acts on the
trunk only, so the whole residual needs one forward jet pass of the trunk and no reverse-mode derivative pass.

For ``M`` functions and ``N`` shared points the DeepONet's output ``j`` is

.. math:: u_j[m, n] = \sum_{i=1}^p b_{j}[m, i]\, t_{j}[n, i] + c_j
          \quad\Longrightarrow\quad \partial^\alpha u_j = b_j\, (\partial^\alpha t_j)^\top \quad (\alpha \ne ()),

with branch features ``b`` (M, k, p), trunk features ``t`` (N, k, p) and bias ``c``. The trunk's derivatives
:math:`\partial^\alpha t` for every multi-index asked for (and the lower ones they are built from) come from one
Taylor-mode pass through the trunk MLP (:mod:`pinnkit.nets.taylor_mode`), costing about as many matrix products
as there are multi-indices in the closure; a linear combination :math:`\sum_i c_i \partial^{\alpha_i} u_j` is
formed on the (N, p) trunk jets first and contracted with the branch once (:meth:`TaylorDerivatives.combine`, used
by :class:`~pinnkit.pde.linear_combination.LinearCombination`). Gradients with respect to the parameters come from
one ordinary backward pass of the loss.

Compared with zero coordinate shift (:class:`~pinnkit.pde.derivatives.ZCSDerivatives`), which needs a reverse pass
per derivative order, another to the dummy ``a`` and then the loss's pass through all of them, this is exact to
round-off too but supports only DeepONets whose trunks Taylor mode can propagate through (see
:func:`check_taylor_net`).

The multi-indices to propagate are given up front (``alphas``); one asked for later is computed by an extra jet
pass of its own closure (correct, slower) and listed in :attr:`TaylorDerivatives.requested`, so that a caller can
include it from the next forward pass on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
from torch import Tensor, nn

from ..nets.activation_derivatives import smooth_activation_name
from ..nets.deeponet import DeepONet
from ..nets.taylor_mode import Jet, check_mlp_for_jets, jet_closure, mlp_jet
from .derivatives import Derivatives, MultiIndex


def check_taylor_net(net: nn.Module) -> DeepONet:
    """``net`` if Taylor-mode derivatives support it (a :class:`~pinnkit.nets.DeepONet` whose trunks are MLPs
    without embedding and with a smooth activation), else a ``ValueError`` naming what is unsupported."""
    if not isinstance(net, DeepONet):
        raise ValueError(f"the 'taylor' backend needs a pinnkit DeepONet (derivatives act on its trunk); got "
                         f"{type(net).__name__}. Use backend='zcs' for other networks")
    for i, trunk in enumerate(net.trunks):
        check_mlp_for_jets(trunk, f"DeepONet trunk {i}")
    if net.trunk_activation_last:
        smooth_activation_name(net.activation, "DeepONet.activation (applied to the trunk features)")
    return net


def deeponet_trunk_jet(net: DeepONet, x: Tensor, alphas: Iterable[MultiIndex], mlp: Callable[..., Jet] = mlp_jet
                       ) -> dict[MultiIndex, Tensor]:
    """Trunk features and their derivatives ``{beta: (N, k, p)}`` at points ``x`` (N, d): the value and ``alphas``
    (and, without a last activation, every lower order of the closure too); identically zero derivatives as zero
    tensors. ``mlp`` computes each trunk's jet (:func:`~pinnkit.nets.taylor_mode.mlp_jet`, or a compiled copy of
    it: ``OperatorTrainer(..., backend="taylor", compile=True)``)."""
    closed = jet_closure(alphas)
    last = net.activation if net.trunk_activation_last else None
    wanted = closed if last is None else sorted({(), *(tuple(sorted(a)) for a in alphas)}, key=lambda a: (len(a), a))
    jets: list[Jet] = [mlp(trunk, x, wanted, last) for trunk in net.trunks]
    out: dict[MultiIndex, Tensor] = {}
    n = len(x)
    for beta in wanted:
        parts = []
        for jet in jets:
            value = jet[beta]
            width = jet[()].shape[-1]
            if value is None:
                value = x.new_zeros(n, width)
            elif value.ndim == 1:
                value = value.expand(n, width)
            parts.append(value)
        features = parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)
        out[beta] = features.reshape(n, net.outputs, net.features)
    return out


class TaylorDerivatives(Derivatives):
    """Derivatives of ``net(v, x)`` for a :class:`~pinnkit.nets.DeepONet` at aligned points ``x`` (N, d), from one
    Taylor-mode pass of its trunk (see module docstring).

    ``v``: sensor values (M, m); ``alphas``: the multi-indices to propagate in the first pass; ``mlp``: what
    computes a trunk's jet (see :func:`deeponet_trunk_jet`). ``u`` is (M, N, k) and ``engine(j, alpha)`` is
    (M, N), as for the other engines.
    """

    def __init__(self, net: nn.Module, v: Tensor, x: Tensor, alphas: Iterable[MultiIndex] = (),
                 mlp: Callable[..., Jet] = mlp_jet):
        self.net = check_taylor_net(net)
        self.v, self.mlp = v, mlp
        first_pass = {tuple(sorted(a)) for a in alphas if a}
        self._first_pass = first_pass
        super().__init__(None, x)
        #: The multi-indices of the first pass and every one asked for since (what the next pass should propagate).
        self.requested: set[MultiIndex] = set(first_pass)

    def _forward(self, _, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.ndim != 2:
            raise ValueError(f"the 'taylor' backend needs aligned points of shape (N, d); got {tuple(x.shape)}")
        x = x.detach()
        self.branch = self.net.branch_features(self.v)  # (M, k, p)
        self.trunk_jet = deeponet_trunk_jet(self.net, x, self._first_pass, self.mlp)
        u = torch.einsum("mkp,nkp->mnk", self.branch, self.trunk_jet[()]) + self.net.bias
        return x, u

    def trunk(self, alpha: MultiIndex) -> Tensor:
        """``d^alpha`` of the trunk features, (N, k, p); a multi-index outside the first pass gets a pass of its
        own."""
        alpha = tuple(sorted(alpha))
        self.requested.add(alpha)
        if alpha not in self.trunk_jet:
            for beta, value in deeponet_trunk_jet(self.net, self.x, [alpha], self.mlp).items():
                self.trunk_jet.setdefault(beta, value)
        return self.trunk_jet[alpha]

    def _compute(self, output: int, alpha: MultiIndex) -> Tensor:
        return self.branch[:, output] @ self.trunk(alpha)[:, output].T

    def combine(self, output: int, items: Sequence[tuple[MultiIndex, float | Tensor]]) -> Tensor:
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
                combined = torch.add(combined, t, alpha=c)
        if combined is None:
            raise ValueError("combine needs at least one (multi-index, coefficient) pair")
        return self.branch[:, output] @ combined.T
