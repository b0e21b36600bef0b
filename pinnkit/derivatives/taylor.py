r"""Taylor-mode derivative engine for PINNs: one forward jet pass of the network gives its outputs and every
partial derivative the residual asks for, with no reverse-mode derivative passes (:class:`JetDerivatives`).

The network provides its jet (:mod:`pinnkit.derivatives.protocol`). For an MLP the derivatives are pushed forward
layer by layer: a linear layer maps each derivative by its weight matrix, an activation combines them by the
multivariate Faà di Bruno formula (:func:`~pinnkit.derivatives.multi_index.faa_di_bruno`). For the multi-indices
:math:`S` (closed under sub-multisets) this costs about :math:`|S|` forward passes, and the gradient of a loss in
the parameters is one ordinary backward pass; reverse mode
(:class:`~pinnkit.derivatives.reverse.AutogradDerivatives`) instead runs a backward pass per derivative order, each
kept as a graph that the loss's backward pass goes through again. Both are exact to round-off.

Jets need the multi-indices up front. :class:`JetDerivatives` takes them (the evaluator of a
:class:`~pinnkit.Problem` records the ones its residual uses); one asked for later is still answered, by a second
jet pass over the larger closure, and is listed in :attr:`JetDerivatives.missed` so that the caller can include it
next time.

A network's jet pass is a pure function of the parameters and the points with a fixed structure, which makes it a
good candidate for ``torch.compile`` (elementwise chains fused into one kernel per layer):
``Backend("taylor", compile=True)`` hands a :class:`~pinnkit.derivatives.protocol.Compiled` cache to the jet.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from .engine import Derivatives
from .multi_index import MultiIndex, jet_closure, normalise
from .protocol import Compiled, check_jet


class JetDerivatives(Derivatives):
    """Outputs ``u`` (N, k) of ``net`` at ``x`` (N, d) and their partial derivatives from one Taylor-mode pass.

    ``net`` provides the jet protocol (checked here: a ``ValueError`` naming ``net`` otherwise); ``alphas``: the
    multi-indices to propagate (closed under sub-multisets here); ``compiled``: a
    :class:`~pinnkit.derivatives.protocol.Compiled` cache for the jet's pure arithmetic, or ``None`` (eager).
    """

    def __init__(self, net: nn.Module, x: Tensor, alphas: Iterable[MultiIndex] = (), compiled: Compiled | None = None):
        if not torch.compiler.is_compiling():  # a traced evaluation's network is checked before it is traced
            check_jet(net)
        self.alphas = jet_closure(normalise(a) for a in alphas)
        self.compiled = compiled
        self.missed: set[MultiIndex] = set()
        self.net = net
        super().__init__(net, x)

    def _forward(self, net, x):
        x = x.detach()
        self._jet = net.jet(x, self.alphas, self.compiled)
        return x, self._jet[()]

    def _compute(self, output, alpha):
        if alpha not in self._jet:  # not announced: one more pass over the larger closure (same values, slower)
            self.missed.add(alpha)
            self.alphas = jet_closure([*self.alphas, alpha])
            extra = self.net.jet(self.x, self.alphas, self.compiled)
            for beta, value in extra.items():
                self._jet.setdefault(beta, value)
        value = self._jet[alpha]
        if value is None:  # identically zero (e.g. a derivative of order above what the net can produce)
            return torch.zeros_like(self.u[..., output])
        return value.expand_as(self.u)[..., output]
