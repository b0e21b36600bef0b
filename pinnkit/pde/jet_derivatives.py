r"""Taylor-mode derivative engine for PINNs: one forward jet pass of the network gives its outputs and every
partial derivative the residual asks for, with no reverse-mode derivative passes.

For a network built of linear layers and smooth elementwise activations (pinnkit's :class:`~pinnkit.nets.MLP`),
the derivatives of its outputs in its inputs can be pushed forward layer by layer (:mod:`pinnkit.nets.taylor_mode`):
a linear layer maps each derivative by its weight matrix, an activation combines them by the multivariate
Faà di Bruno formula. For the multi-indices :math:`S` (closed under sub-multisets) this costs about :math:`|S|`
forward passes, and the gradient of a loss in the parameters is one ordinary backward pass; reverse mode
(:class:`~pinnkit.pde.derivatives.AutogradDerivatives`) instead runs a backward pass per derivative order, each kept
as a graph that the loss's backward pass goes through again. Both are exact to round-off.

Jets need the multi-indices up front. :class:`JetDerivatives` takes them (a :class:`~pinnkit.Problem` records the
ones its residual uses when it is built); one asked for later is still answered, by a second jet pass over the
larger closure, and is listed in :attr:`JetDerivatives.missed` so that the caller can include it next time.

A jet pass is a pure function of the parameters and the points with a fixed structure, which makes it a good
candidate for ``torch.compile`` (elementwise chains fused into one kernel per layer): pass a compiled
:func:`~pinnkit.nets.taylor_mode.mlp_jet` as ``jet`` (what ``Trainer(..., backend="taylor", compile=True)`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn

from ..nets.taylor_mode import Jet, check_mlp_for_jets, jet_closure, mlp_jet
from .derivatives import Derivatives, MultiIndex

JetFunction = Callable[[nn.Module, Tensor, list[MultiIndex]], Jet]


def check_jet_net(net: nn.Module, where: str = "net") -> None:
    """Raise a ``ValueError`` naming ``where`` unless Taylor-mode jets of ``net`` are supported."""
    check_mlp_for_jets(net, where)


class JetDerivatives(Derivatives):
    """Outputs ``u`` (N, k) of ``net`` at ``x`` (N, d) and their partial derivatives from one Taylor-mode pass.

    ``alphas``: the multi-indices to propagate (closed under sub-multisets here); ``jet``: the jet function,
    ``jet(net, x, closure) -> {alpha: tensor or None}`` (default :func:`~pinnkit.nets.taylor_mode.mlp_jet`, or a
    compiled version of it).
    """

    def __init__(self, net: Callable[[Tensor], Tensor], x: Tensor, alphas: Iterable[MultiIndex] = (),
                 jet: JetFunction | None = None):
        self.alphas = jet_closure(tuple(sorted(a)) for a in alphas)
        self.jet_function = jet if jet is not None else mlp_jet
        self.missed: set[MultiIndex] = set()
        self.net = net
        super().__init__(net, x)

    def _forward(self, net, x):
        x = x.detach()
        self._jet = self.jet_function(net, x, self.alphas)
        return x, self._jet[()]

    def _compute(self, output, alpha):
        if alpha not in self._jet:  # not announced: one more pass over the larger closure (same values, slower)
            self.missed.add(alpha)
            self.alphas = jet_closure([*self.alphas, alpha])
            extra = self.jet_function(self.net, self.x, self.alphas)
            for beta, value in extra.items():
                self._jet.setdefault(beta, value)
        value = self._jet[alpha]
        if value is None:  # identically zero (e.g. a derivative of order above what the net can produce)
            return torch.zeros_like(self.u[..., output])
        return value.expand_as(self.u)[..., output]
