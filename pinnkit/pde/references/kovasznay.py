r"""Kovasznay flow: the exact steady 2-D Navier–Stokes solution behind a grid (Kovasznay, 1948).

With kinematic viscosity :math:`\nu = 1/Re` and :math:`\lambda = Re/2 - \sqrt{Re^2/4 + 4\pi^2}` (negative),

.. math::

    u = 1 - e^{\lambda x} \cos(2\pi y), \qquad
    v = \frac{\lambda}{2\pi} e^{\lambda x} \sin(2\pi y), \qquad
    p = \tfrac12 \left(1 - e^{2\lambda x}\right)

solves :math:`(\mathbf u \cdot \nabla)\mathbf u + \nabla p = \nu \Delta \mathbf u`, :math:`\nabla \cdot \mathbf u = 0`
in the whole plane (:math:`\lambda^2 - Re\,\lambda = 4\pi^2` makes it so). The usual benchmark domain is
:data:`KOVASZNAY_DOMAIN` ``[-0.5, 1] x [-0.5, 1.5]`` at ``Re = 20`` (``lambda = -1.81``). The pressure is the
one with ``p -> 1/2`` far downstream; any constant may be added.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ._points import evaluate_formula

__all__ = ["KOVASZNAY_DOMAIN", "kovasznay_lambda", "kovasznay_solution"]

KOVASZNAY_DOMAIN = ((-0.5, -0.5), (1.0, 1.5))
"""Lower and upper corners of the benchmark domain ``[-0.5, 1] x [-0.5, 1.5]``."""


def kovasznay_lambda(re: float = 20.0) -> float:
    """``lambda = Re/2 - sqrt(Re^2/4 + 4 pi^2)`` of the Kovasznay flow at Reynolds number ``re`` (> 0)."""
    if isinstance(re, bool) or not isinstance(re, (int, float)) or not re > 0 or not math.isfinite(re):
        raise ValueError(f"re must be a positive finite number; got {re!r}")
    return re / 2 - math.sqrt(re * re / 4 + 4 * math.pi**2)


def kovasznay_solution(points: Any, re: float = 20.0) -> Any:
    """Exact ``(u, v, p)`` of the Kovasznay flow at ``points`` (N, 2) with columns ``x, y``.

    Returns (N, 3): a tensor (differentiable, same dtype and device) for a tensor input, else float64 numpy.
    """
    lam = kovasznay_lambda(re)

    def formula(x: Tensor) -> Tensor:
        e = torch.exp(lam * x[:, 0])
        arg = 2 * math.pi * x[:, 1]
        return torch.stack([1 - e * torch.cos(arg), lam / (2 * math.pi) * e * torch.sin(arg), 0.5 * (1 - e * e)],
                           dim=1)

    return evaluate_formula(formula, points, 2, "kovasznay_solution")
