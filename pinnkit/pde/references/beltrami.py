r"""The 3-D unsteady Beltrami flow of Ethier & Steinman (1994), an exact Navier–Stokes solution.

With parameters :math:`a, d` and :math:`F(t) = e^{-d^2 \nu t}`,

.. math::

    u &= -a \left[e^{ax} \sin(ay + dz) + e^{az} \cos(ax + dy)\right] F, \\
    v &= -a \left[e^{ay} \sin(az + dx) + e^{ax} \cos(ay + dz)\right] F, \\
    w &= -a \left[e^{az} \sin(ax + dy) + e^{ay} \cos(az + dx)\right] F, \\
    p &= -\frac{a^2}{2} \Big[e^{2ax} + e^{2ay} + e^{2az}
          + 2 \sin(ax + dy) \cos(az + dx) e^{a(y+z)}
          + 2 \sin(ay + dz) \cos(ax + dy) e^{a(z+x)} \\
      &\qquad\qquad + 2 \sin(az + dx) \cos(ay + dz) e^{a(x+y)}\Big] F^2

solves :math:`\mathbf u_t + (\mathbf u \cdot \nabla)\mathbf u + \nabla p = \nu \Delta \mathbf u`,
:math:`\nabla \cdot \mathbf u = 0`. The velocity is parallel to its vorticity (a Beltrami field), so the convective
term is the gradient :math:`\nabla |\mathbf u|^2 / 2`, balanced by the pressure, and
:math:`\Delta \mathbf u = -d^2 \mathbf u` gives the decay. NSFnets (Jin et al., 2021) use ``a = d = 1``,
``nu = 1`` on ``[-1, 1]^3 x [0, 1]``, the defaults here.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ._points import evaluate_formula

__all__ = ["beltrami_solution"]


def beltrami_solution(points: Any, nu: float = 1.0, *, a: float = 1.0, d: float = 1.0) -> Any:
    """Exact ``(u, v, w, p)`` of the Ethier–Steinman flow at ``points`` (N, 4) with columns ``x, y, z, t``.

    ``nu`` > 0 viscosity; ``a`` and ``d`` the parameters of the module docstring. Returns (N, 4): a tensor
    (differentiable, same dtype and device) for a tensor input, else float64 numpy.
    """
    for name, value in (("nu", nu), ("a", a), ("d", d)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number; got {value!r}")
    if not nu > 0:
        raise ValueError(f"nu must be positive; got {nu!r}")

    def formula(p: Tensor) -> Tensor:
        x, y, z, t = p.unbind(dim=1)
        ex, ey, ez = torch.exp(a * x), torch.exp(a * y), torch.exp(a * z)
        s_xy, c_xy = torch.sin(a * x + d * y), torch.cos(a * x + d * y)
        s_yz, c_yz = torch.sin(a * y + d * z), torch.cos(a * y + d * z)
        s_zx, c_zx = torch.sin(a * z + d * x), torch.cos(a * z + d * x)
        decay = torch.exp(-d * d * nu * t)
        u = -a * (ex * s_yz + ez * c_xy) * decay
        v = -a * (ey * s_zx + ex * c_yz) * decay
        w = -a * (ez * s_xy + ey * c_zx) * decay
        pressure = -0.5 * a * a * (ex * ex + ey * ey + ez * ez + 2 * s_xy * c_zx * ey * ez + 2 * s_yz * c_xy * ez * ex
                                   + 2 * s_zx * c_yz * ex * ey) * decay * decay
        return torch.stack([u, v, w, pressure], dim=1)

    return evaluate_formula(formula, points, 4, "beltrami_solution")
