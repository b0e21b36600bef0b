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

Supported networks (:func:`network_jet`): pinnkit's MLP, and a :class:`~pinnkit.nets.HardConstraint`
:math:`u = g + d\,N` around one. For the latter the jets of :math:`g` and :math:`d`, functions of the coordinates
alone, come from reverse mode on the points (cheap: no parameters inside), and the product by the Leibniz rule

.. math:: \partial^\beta (d\,N) = \sum_{\gamma \le \beta} \binom{\beta}{\gamma}\,
          \partial^\gamma d\; \partial^{\beta - \gamma} N, \qquad
          \binom{\beta}{\gamma} = \prod_i \binom{\beta_i}{\gamma_i}

(:math:`\beta_i` the number of times coordinate ``i`` occurs in the multi-index).

The MLP's jet pass is a pure function of the parameters and the points with a fixed structure, which makes it a
good candidate for ``torch.compile`` (elementwise chains fused into one kernel per layer): ``network_jet(...,
mlp=torch.compile(mlp_jet))`` is what ``Trainer(..., backend="taylor", compile=True)`` uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor, nn

from ..nets.hard_constraint import HardConstraint
from ..nets.mlp import MLP
from ..nets.taylor_mode import Jet, check_mlp_for_jets, jet_closure, mlp_jet, sub_multisets
from .derivatives import AutogradDerivatives, Derivatives, MultiIndex

JetFunction = Callable[[nn.Module, Tensor, list[MultiIndex]], Jet]


def check_jet_net(net: nn.Module, where: str = "net") -> None:
    """Raise a ``ValueError`` naming ``where`` unless Taylor-mode jets of ``net`` are supported: an MLP, or a
    hard constraint around one."""
    if isinstance(net, HardConstraint):
        check_jet_net(net.net, f"{where}.net")
    elif type(net) is MLP:
        check_mlp_for_jets(net, where)
    else:
        raise ValueError(f"{where}: Taylor-mode derivatives support pinnkit's MLP and a HardConstraint around one; "
                         f"got {type(net).__name__} (use backend='autograd' or 'zcs' for other networks)")


def network_jet(net: nn.Module, x: Tensor, alphas: list[MultiIndex], mlp: JetFunction = mlp_jet) -> Jet:
    """The jet ``{beta: (N, k) tensor or None}`` of ``net`` at ``x`` (N, d) over the closure of ``alphas``;
    ``mlp`` computes MLP jets (e.g. a compiled :func:`~pinnkit.nets.taylor_mode.mlp_jet`)."""
    if isinstance(net, HardConstraint):
        return hard_constraint_jet(net, x, alphas, mlp)
    return mlp(net, x, alphas)


def _coordinate_jet(function: Callable[[Tensor], Tensor], x: Tensor, closed: list[MultiIndex],
                    keep_graph: bool) -> Jet:
    """Jet of a function of the coordinates alone, ``(N, w)``, by reverse mode on the points."""
    engine = AutogradDerivatives(function, x)
    jet: Jet = {}
    for beta in closed:
        value = torch.stack([engine(j, beta) for j in range(engine.u.shape[-1])], dim=-1)
        jet[beta] = value if keep_graph else value.detach()
    return jet


def _trainable(part) -> bool:
    return isinstance(part, nn.Module) and any(p.requires_grad for p in part.parameters())


def hard_constraint_jet(net: HardConstraint, x: Tensor, alphas: list[MultiIndex], mlp: JetFunction = mlp_jet
                        ) -> Jet:
    """Jet of ``g + d * N`` (module docstring): ``g`` and ``d`` by reverse mode, ``N`` by ``network_jet``."""
    closed = jet_closure(alphas)
    inner = network_jet(net.net, x, closed, mlp)
    outputs = inner[()].shape[-1]
    d = _coordinate_jet(net.distance_values, x, closed, _trainable(net.distance))
    if callable(net.particular):
        g = _coordinate_jet(lambda p: net.particular_values(p, outputs), x, closed, _trainable(net.particular))
    else:
        g = {beta: None for beta in closed}
        g[()] = torch.full((1,), float(net.particular), dtype=x.dtype, device=x.device)
    out: Jet = {}
    for beta in closed:
        total = g[beta]
        for gamma, rest, weight in sub_multisets(beta):
            if inner[rest] is None:
                continue
            term = d[gamma] * inner[rest]
            term = term if weight == 1 else term * weight
            total = term if total is None else total + term
        out[beta] = total
    return out


class JetDerivatives(Derivatives):
    """Outputs ``u`` (N, k) of ``net`` at ``x`` (N, d) and their partial derivatives from one Taylor-mode pass.

    ``alphas``: the multi-indices to propagate (closed under sub-multisets here); ``jet``: the jet function,
    ``jet(net, x, closure) -> {alpha: tensor or None}`` (default :func:`network_jet`).
    """

    def __init__(self, net: Callable[[Tensor], Tensor], x: Tensor, alphas: Iterable[MultiIndex] = (),
                 jet: JetFunction | None = None):
        self.alphas = jet_closure(tuple(sorted(a)) for a in alphas)
        self.jet_function = jet if jet is not None else network_jet
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
