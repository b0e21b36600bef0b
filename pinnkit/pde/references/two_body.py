r"""The two-body exact solution of the high-dimensional Poisson benchmarks (Hu, Shukla, Karniadakis and Kawaguchi,
*Tackling the curse of dimensionality with physics-informed neural networks*, 2024; used by Shi et al., STDE,
NeurIPS 2024): on the unit ball :math:`B^d = \{\|x\| < 1\}`,

.. math:: u(x) = \bigl(1 - \|x\|^2\bigr) \sum_{i=1}^{d-1} c_i \sin\bigl(x_i + \cos x_{i+1} + x_{i+1}\cos x_i\bigr),
          \qquad c_i \sim N(0, 1) \text{ i.i.d.},

zero on the sphere :math:`\|x\| = 1`. :class:`TwoBody` evaluates ``u`` and its Laplacian in closed form, O(N d):
with :math:`u = u_1 u_2`, :math:`u_1 = 1 - \|x\|^2`, :math:`\varphi_i = x_i + \cos x_{i+1} + x_{i+1}\cos x_i`,
:math:`a_i = \partial_{x_i}\varphi_i = 1 - x_{i+1}\sin x_i`, :math:`b_i = \partial_{x_{i+1}}\varphi_i = \cos x_i -
\sin x_{i+1}` and :math:`\Delta\varphi_i = -x_{i+1}\cos x_i - \cos x_{i+1}`,

.. math:: \Delta u = -2d\, u_2 - 4 \sum_i c_i \cos\varphi_i\,(x_i a_i + x_{i+1} b_i)
          + u_1 \sum_i c_i \bigl(\cos\varphi_i\, \Delta\varphi_i - \sin\varphi_i\, (a_i^2 + b_i^2)\bigr)

(:math:`\Delta u = \Delta u_1\, u_2 + 2 \nabla u_1 \cdot \nabla u_2 + u_1 \Delta u_2`, :math:`\nabla u_1 = -2x`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ...checks import check_int, check_seed


class TwoBody:
    """The two-body solution in ``dim`` dimensions (module docstring); the coefficients ``c`` (dim - 1,) are drawn
    from ``N(0, 1)`` with a generator seeded by ``seed`` (float64)."""

    def __init__(self, dim: int, seed: int = 0):
        self.dim = check_int(dim, "dim", minimum=2)
        generator = torch.Generator().manual_seed(check_seed(seed))
        self.coefficients = torch.randn(self.dim - 1, generator=generator, dtype=torch.float64)

    def __repr__(self) -> str:
        return f"TwoBody(dim={self.dim})"

    def _check(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.dim:
            raise ValueError(f"points must have shape (N, {self.dim}); got {tuple(x.shape)}")
        return self.coefficients.to(x)

    def solution(self, x: Tensor) -> Tensor:
        """``u`` at points ``x`` (N, dim): (N,)."""
        c = self._check(x)
        a, b = x[..., :-1], x[..., 1:]
        phi = a + torch.cos(b) + b * torch.cos(a)
        return (1 - (x * x).sum(-1)) * (c * torch.sin(phi)).sum(-1)

    def laplacian(self, x: Tensor) -> Tensor:
        r""":math:`\Delta u` at ``x`` (N, dim): (N,), closed form (module docstring)."""
        return self.solution_and_laplacian(x)[1]

    def solution_and_laplacian(self, x: Tensor) -> tuple[Tensor, Tensor]:
        r"""``(u, \Delta u)`` at ``x`` (N, dim), each (N,): one pass that shares the sines and cosines of ``x``
        and of :math:`\varphi` between the two (what a high-dimensional training step needs, O(N d))."""
        c = self._check(x)
        cos_x, sin_x = torch.cos(x), torch.sin(x)
        a, b = x[..., :-1], x[..., 1:]
        cos_a, cos_b, sin_a, sin_b = cos_x[..., :-1], cos_x[..., 1:], sin_x[..., :-1], sin_x[..., 1:]
        phi = a + cos_b + b * cos_a
        cos, sin = torch.cos(phi), torch.sin(phi)
        da = 1 - b * sin_a
        db = cos_a - sin_b
        lap_phi = -b * cos_a - cos_b
        u1 = 1 - (x * x).sum(-1)
        u2 = (c * sin).sum(-1)
        cross = (c * cos * (a * da + b * db)).sum(-1)
        lap_u2 = (c * (cos * lap_phi - sin * (da * da + db * db))).sum(-1)
        return u1 * u2, -2 * self.dim * u2 - 4 * cross + u1 * lap_u2
