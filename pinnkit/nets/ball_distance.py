r"""The distance factor of a ball for hard constraints, with a directional jet: :class:`BallDistance`.

:math:`d(x) = r^2 - \|x - c\|^2` is zero on the sphere :math:`\|x - c\| = r` and positive inside, so
``HardConstraint(net, 0.0, BallDistance(r))`` imposes ``u = 0`` on the sphere exactly (the ansatz of the STDE paper's
high-dimensional Poisson problems). Being quadratic, its directional derivatives are closed-form and O(d):
:math:`\partial_t d(x + tv) = -2 (x - c)\cdot v`, :math:`\partial_t^2 = -2\|v\|^2`, zero above, so a hard-constrained
network's directional jet (:meth:`~pinnkit.nets.HardConstraint.directional_jet`) never expands the points against
the directions, which matters at :math:`d = 10^5`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..checks import check_positive_float
from .registry import register_net


@register_net
class BallDistance(nn.Module):
    """``d(x) = radius^2 - |x - center|^2``: points (..., d) -> (...,); ``center`` ``None`` is the origin (kept as a
    float64 buffer otherwise)."""

    def __init__(self, radius: float = 1.0, center=None):
        super().__init__()
        self.radius = check_positive_float(radius, "radius")
        c = None if center is None else torch.as_tensor(center, dtype=torch.float64).flatten().clone()
        self.register_buffer("center", c)

    def _shifted(self, x: Tensor) -> Tensor:
        return x if self.center is None else x - self.center.to(x)

    def forward(self, x: Tensor) -> Tensor:
        y = self._shifted(x)
        return self.radius**2 - (y * y).sum(-1)

    def directional_jet(self, x: Tensor, v: Tensor, order: int) -> list[Tensor]:
        """``[d (N, 1), D_1 (N, K), D_2, ...]`` for points ``x`` (N, d) and directions ``v`` (K, d) or (N, K, d)
        (module docstring)."""
        y = self._shifted(x)
        first = y @ v.T if v.ndim == 2 else torch.einsum("nd,nkd->nk", y, v)
        n, k = first.shape
        out = [self.forward(x)[:, None], -2 * first]
        if order >= 2:
            out.append((-2 * (v * v).sum(-1)).expand(n, k))
        out += [torch.zeros_like(first)] * max(0, order - 2)
        return out[:order + 1]

    @property
    def config(self) -> dict:
        """``{"radius", "center"}`` (the center as a list or ``None``)."""
        return {"radius": self.radius, "center": None if self.center is None else self.center.tolist()}
