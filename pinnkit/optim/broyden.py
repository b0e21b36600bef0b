"""The self-scaled Broyden family of inverse-Hessian updates, and the scaling choices of BFGS, SSBFGS and SSBroyden.

With the step ``s = x_{k+1} - x_k``, the gradient change ``y = g_{k+1} - g_k`` (both shape ``(n,)``), the inverse
Hessian approximation ``H`` (shape ``(n, n)``, symmetric positive definite) and ``y^T s > 0``:

    H_{k+1} = (1 / tau) [ H - (H y)(H y)^T / (y^T H y) + phi (y^T H y) v v^T ] + s s^T / (y^T s),
    v = s / (y^T s) - H y / (y^T H y).

Since ``v^T y = 0``, every member satisfies the secant condition ``H_{k+1} y = s``; it stays positive definite for
``tau > 0`` and ``phi`` above the degenerate value (``theta > -1/a`` below). ``tau = phi = 1`` is BFGS.

The scalars of a step (Al-Baali 1998; Al-Baali & Khalfan 2005; used for PINNs by Urbán, Stefanou & Pons 2025 and
Kiyani et al. 2025), with ``alpha`` the line-search step, ``g = g_k`` and ``B = H^{-1}`` (so ``B s = -alpha g``):

    b = s^T B s / (y^T s) = -alpha s^T g / (y^T s),     h = y^T H y / (y^T s),     a = b h - 1  (>= 0).

* SSBFGS: ``phi = 1`` and ``tau = min(1, 1/b)`` (Al-Baali 1998: the Oren-Luenberger factor ``1/b = y^T s /
  s^T B s``, capped at 1 so that the scaling only ever shrinks ``B``; the self-scaled BFGS of Urbán et al. 2025).
* SSBroyden (Urbán et al.'s SSBroyden2; Al-Baali & Khalfan 2005): with

      c = sqrt(a / (1 + a)),  rho- = min(1, h (1 - c)),  theta- = (rho- - 1) / a,  theta+ = 1 / rho-,
      theta = max(theta-, min(theta+, (1 - b) / b)),   sigma = 1 + a theta,   rho = min(1, 1/b),

  ``phi = (1 - theta) / sigma`` (the inverse-update parameter of Broyden's ``theta``) and

      tau = rho min(sigma^(-1/(n-1)), 1/theta)    if theta > 0,
      tau = min(rho sigma^(-1/(n-1)), sigma)      if theta <= 0

  (``sigma^(-1/(n-1))`` is 1 for ``n = 1``). When ``a`` is 0 to round-off (``H y`` parallel to ``s``) ``v`` is
  0, every member is the same update, and ``theta = 0``, ``phi = 1`` are taken.

References: M. Al-Baali, "Numerical experience with a class of self-scaling quasi-Newton algorithms", J. Optim.
Theory Appl. 96 (1998); M. Al-Baali & H. Khalfan, "A wide interval for efficient self-scaling quasi-Newton
algorithms", Optim. Methods Softw. 20 (2005); J. F. Urbán, P. Stefanou & J. A. Pons, "Unveiling the optimization
process of physics informed neural networks: how accurate and competitive can PINNs be?", J. Comput. Phys. (2025),
arXiv:2405.04230; E. Kiyani et al., arXiv:2501.16371 (2025).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def broyden_update_(H: Tensor, s: Tensor, y: Tensor, tau: float = 1.0, phi: float = 1.0,
                    Hy: Tensor | None = None) -> Tensor:
    """:func:`broyden_update` in place on ``H`` (returned); ``Hy`` is ``H @ y`` if already known.

    Each rank-one term ``c u u^T`` is added as ``+-(sqrt|c| u)(sqrt|c| u)^T``: the products of two entries commute
    exactly, so a symmetric ``H`` stays symmetric to the last bit (``c u_i u_j`` would round differently from
    ``c u_j u_i``)."""
    Hy = H @ y if Hy is None else Hy
    yHy, ys = float(y.dot(Hy)), float(y.dot(s))
    v = s / ys - Hy / yHy
    _add_symmetric_(H, Hy, -1.0 / yHy)
    _add_symmetric_(H, v, phi * yHy)
    H.mul_(1.0 / tau)
    _add_symmetric_(H, s, 1.0 / ys)
    return H


def _add_symmetric_(H: Tensor, u: Tensor, c: float) -> None:
    """``H += c u u^T`` with an exactly symmetric addend."""
    if c != 0:
        w = u * math.sqrt(abs(c))
        H.addr_(w, w, alpha=math.copysign(1.0, c))


def broyden_update(H: Tensor, s: Tensor, y: Tensor, tau: float = 1.0, phi: float = 1.0) -> Tensor:
    """The self-scaled Broyden update ``H_{k+1}`` of ``H`` (shape ``(n, n)``) for the step ``s`` and gradient change
    ``y`` (shape ``(n,)``, ``y^T s > 0``), a new tensor (see the module docstring for the formula)."""
    return broyden_update_(H.clone(), s, y, tau, phi)


def curvature_scalars(s: Tensor, y: Tensor, Hy: Tensor, alpha: float, grad: Tensor) -> tuple[float, float, float]:
    """``(b, h, a)`` of the module docstring for the step ``alpha`` from the gradient ``grad`` (shape ``(n,)``)."""
    ys = float(y.dot(s))
    b = -alpha * float(s.dot(grad)) / ys
    h = float(y.dot(Hy)) / ys
    return b, h, max(b * h - 1.0, 0.0)


def ssbfgs_scaling(b: float) -> tuple[float, float]:
    """``(tau, phi) = (min(1, 1/b), 1)``: SSBFGS (Al-Baali 1998)."""
    return min(1.0, 1.0 / b), 1.0


def ssbroyden_scaling(b: float, h: float, a: float, n: int) -> tuple[float, float]:
    """``(tau, phi)`` of SSBroyden (Urbán et al. 2025, SSBroyden2; Al-Baali & Khalfan 2005) for the scalars ``b``,
    ``h``, ``a`` and ``n`` parameters (see the module docstring)."""
    if a <= 4 * torch.finfo(torch.float64).eps:
        theta = 0.0
    else:
        c = math.sqrt(a / (1.0 + a))
        rho_minus = min(1.0, h * (1.0 - c))
        theta_minus, theta_plus = (rho_minus - 1.0) / a, 1.0 / rho_minus
        theta = max(theta_minus, min(theta_plus, (1.0 - b) / b))
    sigma = 1.0 + a * theta
    phi = (1.0 - theta) / sigma
    rho = min(1.0, 1.0 / b)
    root = 1.0 if n == 1 else sigma ** (-1.0 / (n - 1))
    tau = rho * min(root, 1.0 / theta) if theta > 0 else min(rho * root, sigma)
    return tau, phi
