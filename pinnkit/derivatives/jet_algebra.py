r"""Arithmetic on jets (:mod:`pinnkit.derivatives.protocol`): what networks built of other functions need.

* :func:`coordinate_jet`: the jet of a function of the coordinates alone (a hard constraint's ``g`` and ``d``), by
  reverse mode on the points (cheap: no parameters inside);
* :func:`product_jet`: the Leibniz rule (optionally plus another jet)

  .. math:: \partial^\beta (a\,b) = \sum_{\gamma \le \beta} \binom{\beta}{\gamma}\,
            \partial^\gamma a\; \partial^{\beta - \gamma} b, \qquad
            \binom{\beta}{\gamma} = \prod_i \binom{\beta_i}{\gamma_i};

* :func:`sum_jet`: entrywise sums, ``None`` (zero) absorbed;
* :func:`scaled_jet`: a jet of ``y(s_0 x_0, s_1 x_1, ...)`` from that of ``y``: :math:`\partial^\beta` gains the
  factor :math:`\prod_i s_i^{\beta_i}` (the chain rule for an affine change of coordinates).

Entries broadcast as in the protocol: (N, k), (N, 1), (k,) or ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from .multi_index import MultiIndex, sub_multisets
from .protocol import Jet
from .reverse import AutogradDerivatives


def coordinate_jet(function: Callable[[Tensor], Tensor], x: Tensor, closed: Sequence[MultiIndex],
                   keep_graph: bool = False) -> Jet:
    """Jet of ``function`` (N, d) -> (N, w) over ``closed`` by reverse mode on the points ``x``; detached unless
    ``keep_graph`` (a function with trainable parameters)."""
    engine = AutogradDerivatives(function, x)
    jet: Jet = {}
    for beta in closed:
        value = torch.stack([engine(j, beta) for j in range(engine.u.shape[-1])], dim=-1)
        jet[beta] = value if keep_graph else value.detach()
    return jet


def product_jet(a: Jet, b: Jet, closed: Sequence[MultiIndex], plus: Jet | None = None) -> Jet:
    """The jet of the product ``a * b`` over ``closed`` (Leibniz rule, module docstring), plus the jet ``plus`` if
    given (added first, then the Leibniz terms one by one)."""
    out: Jet = {}
    for beta in closed:
        total: Tensor | None = None if plus is None else plus[beta]
        for gamma, rest, weight in sub_multisets(beta):
            if a[gamma] is None or b[rest] is None:
                continue
            term = a[gamma] * b[rest]
            term = term if weight == 1 else term * weight
            total = term if total is None else total + term
        out[beta] = total
    return out


def sum_jet(a: Jet, b: Jet, closed: Sequence[MultiIndex]) -> Jet:
    """The jet of ``a + b`` over ``closed``."""
    out: Jet = {}
    for beta in closed:
        x, y = a[beta], b[beta]
        out[beta] = y if x is None else (x if y is None else x + y)
    return out


def scaled_jet(jet: Jet, scales: Sequence[float]) -> Jet:
    r"""``jet`` with :math:`\partial^\beta` multiplied by :math:`\prod_i s_i^{\beta_i}` (module docstring)."""
    out: Jet = {}
    for beta, value in jet.items():
        factor = 1.0
        for i in beta:
            factor *= scales[i]
        out[beta] = value if value is None or factor == 1.0 else value * factor
    return out
