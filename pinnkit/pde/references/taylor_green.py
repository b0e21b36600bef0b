r"""The 2-D Taylor–Green vortex: an exact unsteady Navier–Stokes solution, optionally carried by a uniform drift.

With wavenumber :math:`k`, amplitude :math:`A` and :math:`F(t) = e^{-2\nu k^2 t}`, the decaying vortex array

.. math::

    \tilde u = A \cos(kx) \sin(ky) F, \qquad \tilde v = -A \sin(kx) \cos(ky) F, \qquad
    \tilde p = -\tfrac{A^2}{4} \left(\cos(2kx) + \cos(2ky)\right) F^2

solves :math:`\mathbf u_t + (\mathbf u \cdot \nabla)\mathbf u + \nabla p = \nu \Delta \mathbf u`,
:math:`\nabla \cdot \mathbf u = 0` (its convective term is a gradient, balanced by the pressure, and
:math:`\Delta \tilde{\mathbf u} = -2k^2 \tilde{\mathbf u}` gives the decay). By Galilean invariance, a uniform
drift :math:`(U, V)` gives another solution,

.. math::

    u = U + \tilde u(x - Ut, y - Vt, t), \quad v = V + \tilde v(x - Ut, y - Vt, t), \quad
    p = \tilde p(x - Ut, y - Vt, t).

The drift matters for inverse problems: without it, :math:`(\mathbf u \cdot \nabla)\mathbf u` is a gradient and a
convection coefficient :math:`\lambda` cannot be told from velocity data (``lambda * p`` fits as well as ``p``);
with it, :math:`(\lambda - 1)(\mathbf U \cdot \nabla)\tilde{\mathbf u}` is not a gradient and :math:`\lambda` is
identifiable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from ._points import evaluate_formula

__all__ = ["taylor_green_solution"]


def _finite(value, name: str, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or (
            positive and not value > 0):
        raise ValueError(f"{name} must be a {'positive ' if positive else ''}finite number; got {value!r}")
    return float(value)


def taylor_green_solution(points: Any, nu: float, *, wavenumber: float = 1.0, amplitude: float = 1.0,
                          drift: Sequence[float] = (0.0, 0.0)) -> Any:
    """Exact ``(u, v, p)`` of the (drifting) Taylor–Green vortex at ``points`` (N, 3) with columns ``x, y, t``.

    ``nu`` > 0 viscosity, ``wavenumber`` k > 0, ``amplitude`` A, ``drift`` the uniform velocity (U, V).
    Returns (N, 3): a tensor (differentiable, same dtype and device) for a tensor input, else float64 numpy.
    """
    nu, k = _finite(nu, "nu", positive=True), _finite(wavenumber, "wavenumber", positive=True)
    a = _finite(amplitude, "amplitude")
    if isinstance(drift, str) or len(drift) != 2:
        raise ValueError(f"drift must be a pair (U, V); got {drift!r}")
    du, dv = (_finite(c, "drift") for c in drift)

    def formula(x: Tensor) -> Tensor:
        t = x[:, 2]
        xs, ys = k * (x[:, 0] - du * t), k * (x[:, 1] - dv * t)
        decay = torch.exp(-2 * nu * k * k * t)
        u = du + a * torch.cos(xs) * torch.sin(ys) * decay
        v = dv - a * torch.sin(xs) * torch.cos(ys) * decay
        p = -0.25 * a * a * (torch.cos(2 * xs) + torch.cos(2 * ys)) * decay * decay
        return torch.stack([u, v, p], dim=1)

    return evaluate_formula(formula, points, 3, "taylor_green_solution")
