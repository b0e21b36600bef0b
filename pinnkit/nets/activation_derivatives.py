r"""Closed-form derivatives of the smooth activations, to any order, for Taylor-mode (jet) propagation.

:func:`activation_derivatives` returns :math:`\sigma(z), \sigma'(z), \dots, \sigma^{(K)}(z)` elementwise, built from
plain torch operations (so they are differentiable with respect to ``z`` and whatever ``z`` depends on):

* ``tanh``: with :math:`h = \tanh z`, every derivative is a polynomial in ``h``: :math:`P_0(h) = h`,
  :math:`P_{k+1}(h) = P_k'(h)\,(1 - h^2)` (so :math:`\sigma' = 1 - h^2`, :math:`\sigma'' = -2h(1 - h^2)`).
* ``sigmoid``: with :math:`s = \sigma(z)`, :math:`P_0(s) = s`, :math:`P_{k+1}(s) = P_k'(s)\,(s - s^2)`.
* ``sin``: :math:`\sigma^{(k)}(z) = \sin(z + k\pi/2)`, i.e. ``sin, cos, -sin, -cos, ...``.
* ``softplus`` (torch's default ``beta = 1``, ``threshold = 20``): :math:`\sigma^{(k)} = \mathrm{sigmoid}^{(k-1)}`
  for ``k >= 1``; above the threshold torch's softplus is the identity, so there the first derivative is 1 and the
  higher ones are 0, as autograd gives.
* ``silu``: :math:`z s(z)`, so :math:`\sigma^{(k)} = z\, s^{(k)} + k\, s^{(k-1)}` with ``s`` the sigmoid.
* ``gelu`` (exact, ``approximate="none"``): :math:`z \Phi(z)`, so :math:`\sigma^{(k)} = z \Phi^{(k)} + k
  \Phi^{(k-1)}` with :math:`\Phi^{(j)}(z) = (-1)^{j-1} \mathrm{He}_{j-1}(z)\, \varphi(z)` for ``j >= 1``
  (probabilists' Hermite polynomials, :math:`\mathrm{He}_{n+1} = z \mathrm{He}_n - n \mathrm{He}_{n-1}`).

``relu`` and ``elu`` are not smooth (their second derivatives are not functions), and modules without a name (see
:func:`~pinnkit.nets.activations.activation_name`) have no known closed form: both are refused with a
``ValueError``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..derivatives.multi_index import constant_memo
from .activations import activation_name

#: Activations with closed-form derivatives of every order (names as in :mod:`pinnkit.nets.activations`).
SMOOTH_ACTIVATIONS = ("tanh", "sigmoid", "sin", "softplus", "silu", "gelu")
_SOFTPLUS_THRESHOLD = 20.0


def smooth_activation_name(module: nn.Module, where: str = "activation") -> str:
    """The name of ``module`` if it is one of :data:`SMOOTH_ACTIVATIONS`, else a ``ValueError`` naming ``where``
    and what is unsupported."""
    name = activation_name(module)
    if name not in SMOOTH_ACTIVATIONS:
        what = f"{name!r} (not smooth: its second derivative is not a function)" if name is not None else (
            f"{module!r} (not one of the named activations, or built with non-default arguments)")
        raise ValueError(f"{where}: Taylor-mode derivatives need an activation with closed-form derivatives, one of "
                         f"{SMOOTH_ACTIVATIONS}; got {what}")
    return name


def _poly_mul(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    out = [0.0] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return tuple(out)


def _poly_add(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    n = max(len(a), len(b))
    return tuple((a[i] if i < len(a) else 0.0) + (b[i] if i < len(b) else 0.0) for i in range(n))


def _poly_trim(a: tuple[float, ...]) -> tuple[float, ...]:
    n = len(a)
    while n > 1 and a[n - 1] == 0:
        n -= 1
    return a[:n]


@constant_memo
def _reduced_polynomials(kind: str, order: int) -> tuple[tuple[float, ...], ...]:
    """Coefficients (increasing powers of ``y``) of ``Q_1, ..., Q_order`` with ``sigma^(k) = s Q_k(y)``:

    * ``"tanh"``: ``y = h = tanh z``, ``s = 1 - h^2``, ``Q_1 = 1``, ``Q_{k+1} = -2h Q_k + (1 - h^2) Q_k'``;
    * ``"sigmoid"``: ``y = S = sigmoid z``, ``s = S - S^2``, ``Q_1 = 1``, ``Q_{k+1} = (1 - 2S) Q_k + (S - S^2) Q_k'``
    (from ``d/dz [s Q_k(y)] = s (s'/y' Q_k + s Q_k')`` with ``ds/dy = -2h`` resp. ``1 - 2S``).

    Plain Python arithmetic on coefficient tuples (exact for these small integer coefficients)."""
    ds, s = ((0.0, -2.0), (1.0, 0.0, -1.0)) if kind == "tanh" else ((1.0, -2.0), (0.0, 1.0, -1.0))
    out = [(1.0,)]
    for _ in range(order - 1):
        q = out[-1]
        derivative = tuple(i * c for i, c in enumerate(q))[1:] or (0.0,)
        out.append(_poly_add(_poly_mul(ds, q), _poly_mul(s, derivative)))
    return tuple(_poly_trim(q) for q in out)


def _evaluate(coefficients: tuple[float, ...], y: Tensor) -> tuple[float, Tensor | None]:
    """``sum_i c_i y^i`` as ``(scalar, tensor or None for 1)``: a monomial ``c y^n`` keeps ``c`` apart (so that it
    can be folded into a later operation); otherwise Horner's rule."""
    nonzero = [i for i, c in enumerate(coefficients) if c != 0]
    if len(nonzero) == 1:
        n = nonzero[0]
        return coefficients[n], (None if n == 0 else (y if n == 1 else y**n))
    out = torch.full_like(y, coefficients[-1])
    for value in coefficients[-2::-1]:
        out = out * y
        if value != 0:
            out = out + value
    return 1.0, out


Reduced = list[tuple[float, Tensor | None]]


def factored_derivatives(name: str, module: nn.Module, z: Tensor, order: int
                         ) -> tuple[Tensor, Tensor | None, Reduced]:
    r"""``(sigma(z), s, [(c_1, R_1), ..., (c_K, R_K)])`` with :math:`\sigma^{(k)}(z) = s\, c_k R_k` (``s = None``
    means 1, ``R_k = None`` means 1), ``K = order``, for the activation ``module`` of name ``name`` (one of
    :data:`SMOOTH_ACTIVATIONS`; not checked here).

    The common factor ``s`` (``1 - h^2`` for tanh, ``S (1 - S)`` for the sigmoid) lets a jet multiply by it once per
    derivative instead of once per term, and the scalars ``c_k`` fold into other operations.
    """
    value = module(z)
    if order == 0:
        return value, None, []
    if name in ("tanh", "sigmoid"):
        s = 1 - value * value if name == "tanh" else value - value * value
        return value, s, [_evaluate(q, value) for q in _reduced_polynomials(name, order)]
    if name == "sin":
        c = torch.cos(z)
        cycle = [(1.0, value), (1.0, c), (-1.0, value), (-1.0, c)]
        return value, None, [cycle[k % 4] for k in range(1, order + 1)]
    if name == "softplus":
        linear = z > _SOFTPLUS_THRESHOLD
        sig = activation_derivatives(nn.Sigmoid(), z, order - 1, "sigmoid")
        first = torch.where(linear, torch.ones_like(z), sig[0])
        return value, None, [(1.0, first)] + [(1.0, torch.where(linear, torch.zeros_like(z), d)) for d in sig[1:]]
    if name == "silu":
        sig = activation_derivatives(nn.Sigmoid(), z, order, "sigmoid")
        return value, None, [(1.0, z * sig[k] + k * sig[k - 1]) for k in range(1, order + 1)]
    # gelu: z Phi(z)
    phi = torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    hermite = [torch.ones_like(z), z]
    for n in range(1, order):
        hermite.append(z * hermite[n] - n * hermite[n - 1])
    cdf = 0.5 * (1 + torch.erf(z / math.sqrt(2)))
    big_phi = [cdf] + [(-1) ** (j - 1) * hermite[j - 1] * phi for j in range(1, order + 1)]
    return value, None, [(1.0, z * big_phi[k] + k * big_phi[k - 1]) for k in range(1, order + 1)]


def activation_derivatives(module: nn.Module, z: Tensor, order: int, name: str | None = None) -> list[Tensor]:
    r"""``[sigma(z), sigma'(z), ..., sigma^(order)(z)]`` of the activation ``module`` (see module docstring).

    ``z``: pre-activations, any shape; every entry of the list has the shape of ``z``. The value ``sigma(z)`` is
    ``module(z)`` itself, so it is bit-for-bit what the network computes. ``name``: the module's name if already
    known (skips the check).
    """
    name = smooth_activation_name(module) if name is None else name
    value, s, reduced = factored_derivatives(name, module, z, order)
    out = [value]
    for c, r in reduced:
        base = s if r is None else (r if s is None else s * r)
        out.append(torch.full_like(z, c) if base is None else (base if c == 1 else base * c))
    return out
