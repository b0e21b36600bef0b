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

import numpy as np
import torch
from torch import Tensor, nn

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


def _polynomial_derivatives(order: int) -> list[np.ndarray]:
    """Coefficients (increasing powers) of ``P_0 = y``, ``P_{k+1} = P_k'(y) (y - y^2)``: derivatives of a function
    ``y(z)`` with ``y' = y - y^2`` (sigmoid) as polynomials in ``y``."""
    polys = [np.array([0.0, 1.0])]
    factor = np.array([0.0, 1.0, -1.0])
    for _ in range(order):
        p = polys[-1]
        polys.append(np.polynomial.polynomial.polymul(np.polynomial.polynomial.polyder(p), factor))
    return polys


def _tanh_polynomials(order: int) -> list[np.ndarray]:
    """Coefficients of ``P_0 = h``, ``P_{k+1} = P_k'(h) (1 - h^2)``."""
    polys = [np.array([0.0, 1.0])]
    factor = np.array([1.0, 0.0, -1.0])
    for _ in range(order):
        polys.append(np.polynomial.polynomial.polymul(np.polynomial.polynomial.polyder(polys[-1]), factor))
    return polys


def _horner(c: np.ndarray, y: Tensor) -> Tensor:
    """``sum_i c_i y^i`` by Horner's rule (``c`` in increasing powers, last entry non-zero)."""
    out = torch.full_like(y, float(c[-1]))
    for value in c[-2::-1]:
        out = out * y
        if value != 0:
            out = out + float(value)
    return out


def _sigmoid_derivatives(s: Tensor, order: int) -> list[Tensor]:
    return [s] + [_horner(np.trim_zeros(p, "b"), s) for p in _polynomial_derivatives(order)[1:]]


def activation_derivatives(module: nn.Module, z: Tensor, order: int) -> list[Tensor]:
    r"""``[sigma(z), sigma'(z), ..., sigma^(order)(z)]`` of the activation ``module`` (see module docstring).

    ``z``: pre-activations, any shape; every entry of the list has the shape of ``z``. The value ``sigma(z)`` is
    ``module(z)`` itself, so it is bit-for-bit what the network computes.
    """
    name = smooth_activation_name(module)
    value = module(z)
    if order == 0:
        return [value]
    if name == "tanh":
        s = 1 - value * value
        out = [value, s]
        if order >= 2:
            out.append(-2 * value * s)
        for p in _tanh_polynomials(order)[3:]:
            out.append(_horner(np.trim_zeros(p, "b"), value))
        return out
    if name == "sigmoid":
        return _sigmoid_derivatives(value, order)
    if name == "sin":
        c = torch.cos(z)
        cycle = [value, c, -value, -c]
        return [cycle[k % 4] for k in range(order + 1)]
    if name == "softplus":
        linear = z > _SOFTPLUS_THRESHOLD
        s = torch.sigmoid(z)
        ds = _sigmoid_derivatives(s, order - 1)
        first = torch.where(linear, torch.ones_like(z), ds[0])
        return [value, first] + [torch.where(linear, torch.zeros_like(z), d) for d in ds[1:]]
    if name == "silu":
        ds = _sigmoid_derivatives(torch.sigmoid(z), order)
        return [value] + [z * ds[k] + k * ds[k - 1] for k in range(1, order + 1)]
    # gelu: z Phi(z)
    phi = torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    hermite = [torch.ones_like(z), z]
    for n in range(1, order):
        hermite.append(z * hermite[n] - n * hermite[n - 1])
    cdf = 0.5 * (1 + torch.erf(z / math.sqrt(2)))
    big_phi = [cdf] + [(-1) ** (j - 1) * hermite[j - 1] * phi for j in range(1, order + 1)]
    return [value] + [z * big_phi[k] + k * big_phi[k - 1] for k in range(1, order + 1)]
