"""Ready-made residuals of common equations, as functions of the fields ``f``.

Each factory returns ``residual(f)`` for a :class:`~pinnkit.pde.Problem`; names of the output and of the
coordinates can be changed where an equation has them. Coefficients are numbers, or names of trainable PDE
parameters (strings) for inverse problems, e.g. ``burgers(nu="nu")`` with ``parameters={"nu": 0.05}``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import Tensor

from .fields import Fields

Coefficient = float | str
Residual = Callable[[Fields], Tensor]


def _coef(f: Fields, c: Coefficient):
    return getattr(f, c) if isinstance(c, str) else c


def burgers(nu: Coefficient, *, convection: Coefficient = 1.0, u: str = "u", x: str = "x", t: str = "t"
            ) -> Residual:
    """Viscous Burgers: ``u_t + convection * u u_x - nu u_xx``."""

    def residual(f: Fields) -> Tensor:
        return f.d(u, t) + _coef(f, convection) * f.d(u) * f.d(u, x) - _coef(f, nu) * f.d(u, x, x)

    return residual


def heat(diffusivity: Coefficient, *, u: str = "u", space: Sequence[str] = ("x",), t: str = "t") -> Residual:
    """Heat equation: ``u_t - k * Laplacian(u)`` over the coordinates ``space``."""

    def residual(f: Fields) -> Tensor:
        return f.d(u, t) - _coef(f, diffusivity) * sum(f.d(u, c, c) for c in space)

    return residual


def poisson(source: Callable[[Tensor], Tensor] | float = 0.0, *, u: str = "u", space: Sequence[str] = ("x", "y")
            ) -> Residual:
    """Poisson equation: ``-Laplacian(u) - s(x)`` (``source`` a number or a function of the points (N, d))."""

    def residual(f: Fields) -> Tensor:
        s = source(f.points) if callable(source) else source
        return -sum(f.d(u, c, c) for c in space) - s

    return residual


def wave(speed: Coefficient, *, u: str = "u", space: Sequence[str] = ("x",), t: str = "t") -> Residual:
    """Wave equation: ``u_tt - c^2 Laplacian(u)``."""

    def residual(f: Fields) -> Tensor:
        c = _coef(f, speed)
        return f.d(u, t, t) - c * c * sum(f.d(u, s, s) for s in space)

    return residual


def convection(beta: Coefficient, *, u: str = "u", x: str = "x", t: str = "t") -> Residual:
    """Linear convection (advection): ``u_t + beta u_x``."""

    def residual(f: Fields) -> Tensor:
        return f.d(u, t) + _coef(f, beta) * f.d(u, x)

    return residual


def allen_cahn(diffusion: Coefficient = 1e-4, reaction: Coefficient = 5.0, *, u: str = "u", x: str = "x",
               t: str = "t") -> Residual:
    """Allen-Cahn: ``u_t - d u_xx + r (u^3 - u)``."""

    def residual(f: Fields) -> Tensor:
        v = f.d(u)
        return f.d(u, t) - _coef(f, diffusion) * f.d(u, x, x) + _coef(f, reaction) * (v**3 - v)

    return residual
