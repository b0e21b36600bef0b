r"""Taylor-mode (jet) propagation through an :class:`~pinnkit.nets.MLP`: its outputs and all the partial
derivatives in its inputs that are asked for, in one forward pass, without reverse-mode derivative passes. This
is how the MLP implements the jet protocol of :mod:`pinnkit.derivatives.protocol` (``MLP.jet``); the multi-index
tables come from :mod:`pinnkit.derivatives.multi_index`.

A *jet* of a quantity ``y(x)`` is the dictionary :math:`\{\beta: \partial^\beta y\}` over a set ``S`` of
multi-indices (sorted tuples of coordinate indices, ``()`` the value, ``(0, 0)`` for :math:`\partial^2/\partial x_0^2`,
``(0, 1)`` for the mixed partial). ``S`` is closed under taking sub-multisets
(:func:`~pinnkit.derivatives.multi_index.jet_closure`), which is what the rules below need:

* input: :math:`\partial_i x = e_i` (times the scale of the input scaling), higher orders zero;
* linear layer :math:`z = h W^\top + b`: :math:`\partial^\beta z = \partial^\beta h\, W^\top` for
  :math:`\beta \ne ()`;
* elementwise activation :math:`h = \sigma(z)`: the multivariate Faà di Bruno formula

  .. math:: \partial^\beta \sigma(z) = \sum_{\pi \in \Pi(\beta)} \sigma^{(|\pi|)}(z) \prod_{B \in \pi} \partial^B z,

  over the set partitions :math:`\pi` of the positions of :math:`\beta` (a block ``B`` is the sub-multiset of
  coordinates at its positions); equal terms are grouped with their counts
  (:func:`~pinnkit.derivatives.multi_index.faa_di_bruno`). For
  :math:`\beta = (0, 0)`: :math:`\sigma' z_{xx} + \sigma'' z_x^2`; for :math:`(0, 1)`:
  :math:`\sigma' z_{xt} + \sigma'' z_x z_t`.

Derivatives that are identically zero (the input's second derivatives, say) are ``None`` and skipped, and
point-independent ones (the first layer's first derivatives, a column of ``W``) stay as (width,) vectors, so a
jet costs about ``|S|`` times the matrix products of the forward pass. Everything is plain differentiable torch,
so one reverse pass of a loss gives its gradient in the network's parameters.

Supported: :class:`~pinnkit.nets.MLP` (a subclass only if it keeps the MLP's forward pass) without embedding,
with or without input scaling, with an activation of
:data:`~pinnkit.nets.activation_derivatives.SMOOTH_ACTIVATIONS`; anything else is refused by ``MLP.check_jet``
with a ``ValueError`` naming what is unsupported.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..derivatives.multi_index import MultiIndex, faa_di_bruno, jet_closure
from ..derivatives.protocol import Jet
from .activation_derivatives import factored_derivatives, smooth_activation_name

if TYPE_CHECKING:
    from .mlp import MLP


def check_mlp_for_jets(net: nn.Module, where: str = "net") -> str:
    """The activation's name if Taylor-mode jets of the MLP ``net`` are supported (module docstring), else a
    ``ValueError`` naming ``where`` and what is unsupported."""
    if net.embedding is not None:
        raise ValueError(f"{where}: Taylor-mode derivatives do not support an input embedding; got "
                         f"{type(net.embedding).__name__}")
    return smooth_activation_name(net.activation, f"{where}.activation")


def linear_jet(layer: nn.Linear, jet: Jet) -> Jet:
    """``z = h W^T + b`` on a jet: the bias enters the value only."""
    out: Jet = {}
    for beta, h in jet.items():
        if not beta:
            out[beta] = layer(h)
        else:
            out[beta] = None if h is None else F.linear(h, layer.weight)
    return out


def activation_jet(activation: nn.Module, jet: Jet, name: str | None = None,
                   keep: Iterable[MultiIndex] | None = None) -> Jet:
    r"""``h = sigma(z)`` on a jet, by the grouped Faà di Bruno formula (module docstring); ``name``: the
    activation's name if already checked (:func:`~pinnkit.nets.activation_derivatives.smooth_activation_name`);
    ``keep``: the multi-indices to return (default all of the jet's; the value is always returned).

    With :math:`\sigma^{(k)} = s\, c_k R_k` (:func:`~pinnkit.nets.activation_derivatives.factored_derivatives`),
    :math:`\partial^\beta h = s \sum_\pi c_{|\pi|} R_{|\pi|} \prod_B \partial^B z`: the common factor once per
    derivative, the scalars folded into the sum (for tanh, :math:`h_{xx} = s (z_{xx} - 2 h z_x^2)`).
    """
    name = smooth_activation_name(activation) if name is None else name
    order = max(len(beta) for beta in jet)
    value, common, reduced = factored_derivatives(name, activation, jet[()], order)
    out: Jet = {(): value}
    for beta in (jet if keep is None else keep):
        if not beta:
            continue
        inner: Tensor | None = None
        for count, k, blocks in faa_di_bruno(beta):
            factors = [jet[b] for b in blocks]
            if any(f is None for f in factors):
                continue
            c, r = reduced[k - 1]
            if r is not None:
                factors.append(r)
            factors.sort(key=lambda f: f.numel())  # small (point-independent) factors first
            coefficient = count * c
            product = factors[0]
            if inner is None and coefficient != 1:
                product = product * coefficient
            for f in factors[1:]:
                product = product * f
            if inner is None:
                inner = product
            else:
                # not torch.add(..., alpha=coefficient): traced under torch.func.functional_call (the fused step),
                # torch 2.13's compiled graph got that sum wrong in the second derivative of a two-layer MLP
                inner = inner + (product * coefficient if coefficient != 1 else product)
        out[beta] = None if inner is None else (inner if common is None else common * inner)
    return out


def input_jet(net: MLP, x: Tensor, alphas: Iterable[MultiIndex]) -> Jet:
    """The jet of the network's input after its input scaling: the value, ``d/dx_i`` (a scaled unit vector) and
    ``None`` for every higher order; ``alphas`` must be closed
    (:func:`~pinnkit.derivatives.multi_index.jet_closure`)."""
    scaling = net.input_scaling
    value = x if scaling is None else scaling(x)
    d = x.shape[-1]
    if scaling is None:
        slope = torch.ones(d, dtype=x.dtype, device=x.device)
    else:
        lo, hi = scaling.lower.to(x), scaling.upper.to(x)
        slope = 2 / (hi - lo)
    eye = torch.eye(d, dtype=x.dtype, device=x.device) * slope
    jet: Jet = {}
    for beta in alphas:
        jet[beta] = value if not beta else (eye[beta[0]] if len(beta) == 1 else None)
    return jet


def mlp_jet(net: MLP, x: Tensor, alphas: Iterable[MultiIndex], activate_output: nn.Module | None = None) -> Jet:
    """Jet of ``net`` at points ``x`` (N, d) over the closure of ``alphas``: ``{beta: (N, outputs) tensor}``;
    ``activate_output`` (an activation module) is applied to the outputs too (a DeepONet trunk's last layer), and
    then only the value and ``alphas`` themselves are returned (the lower orders are not needed any more).

    Entries that are identically zero are ``None``; point-independent ones may be (outputs,) vectors.
    """
    name = check_mlp_for_jets(net)
    alphas = [tuple(sorted(a)) for a in alphas]
    closed = jet_closure(alphas)
    jet = input_jet(net, x, closed)
    for layer in net.hidden:
        jet = activation_jet(net.activation, linear_jet(layer, jet), name)
    jet = linear_jet(net.output, jet)
    if activate_output is not None:
        jet = activation_jet(activate_output, jet, keep=alphas)
    return jet


def mlp_directional_jet(net: MLP, x: Tensor, v: Tensor, order: int) -> list[Tensor]:
    r"""Derivatives of :math:`t \mapsto u(x + t v)` at ``t = 0``, orders ``0..order``, for many directions at once.

    ``x``: points (N, d); ``v``: directions (K, d), shared by every point, or (N, K, d), K per point. Returns
    ``[u, D_1, ..., D_order]`` with ``u`` (N, 1, outputs) and :math:`D_k = \partial_t^k u(x + t v)|_{t=0}` =
    :math:`\nabla^k u(x)[v, \dots, v]` of shape (N, K, outputs) (derivatives, not Taylor coefficients
    :math:`D_k / k!`).

    This is the MLP's jet (module docstring) in one pseudo-coordinate ``t``: the input jet is ``x`` (its value),
    ``v`` (times the input scaling's slope) for ``d/dt`` and zero above, and the layers are pushed forward by
    :func:`linear_jet` and :func:`activation_jet` over the multi-indices ``(), (0,), (0, 0), ...``. The value is
    carried once per point, (N, 1, width), and broadcast against the directions, so K directions cost about
    ``order * K`` forward passes of the hidden layers; with shared directions the first layer's ``d/dt`` is
    ``v W^T`` (K, width), independent of the points, which keeps a d = 100,000 input cheap.
    """
    name = check_mlp_for_jets(net)
    scaling = net.input_scaling
    value = x if scaling is None else scaling(x)
    if scaling is not None:
        lo, hi = scaling.lower.to(x), scaling.upper.to(x)
        v = v * (2 / (hi - lo))
    indices = [(0,) * k for k in range(order + 1)]
    jet: Jet = {(): value[..., None, :]}
    for beta in indices[1:]:
        jet[beta] = v if len(beta) == 1 else None
    for layer in net.hidden:
        jet = activation_jet(net.activation, linear_jet(layer, jet), name)
    jet = linear_jet(net.output, jet)
    u = jet[()]
    out = [u]
    for beta in indices[1:]:
        shape = (u.shape[0], v.shape[-2], u.shape[-1])
        out.append(torch.zeros(shape, dtype=u.dtype, device=u.device) if jet[beta] is None
                   else jet[beta].expand(shape))
    return out
