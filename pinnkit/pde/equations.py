"""Ready-made residuals of common equations, as functions of the fields ``f``.

Each factory returns ``residual(f)`` for a :class:`~pinnkit.pde.Problem` (a tensor, or a mapping of named terms
for systems such as Navier–Stokes); names of the outputs and of the coordinates can be changed where an equation
has them. Coefficients are numbers, or names of trainable PDE parameters (strings) for inverse problems, e.g.
``burgers(nu="nu")`` with ``parameters={"nu": 0.05}``.
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


_MOMENTUM = ("momentum_x", "momentum_y", "momentum_z")


def _check_names(value: Sequence[str], expected: int, argument: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    if len(names) != expected or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{argument} must name {expected} components for dim={expected}; got {value!r}")
    return names


def _check_force(force, dim: int):
    if force is not None and not callable(force):
        raise ValueError(f"force must be None or a function of the points (N, d) returning (N, {dim}); got "
                         f"{type(force).__name__}")
    return force


def navier_stokes(nu: Coefficient, *, convection: Coefficient = 1.0, dim: int = 2, steady: bool = True,
                  velocity: Sequence[str] | None = None, pressure: str = "p", space: Sequence[str] | None = None,
                  t: str = "t", force: Callable[[Tensor], Tensor] | None = None) -> Callable[[Fields], dict]:
    r"""Incompressible Navier–Stokes in velocity–pressure form, 2-D or 3-D, steady or unsteady.

    With velocity :math:`\mathbf u = (u, v[, w])` over the coordinates ``space`` and kinematic pressure
    :math:`p` (pressure over density), the residual terms are

    .. math::

        \text{momentum}_i = \partial_t u_i + \lambda\, (\mathbf u \cdot \nabla) u_i + \partial_i p
                            - \nu\, \Delta u_i - f_i, \qquad
        \text{continuity} = \nabla \cdot \mathbf u,

    returned as a mapping ``{"momentum_x", "momentum_y"[, "momentum_z"], "continuity"}`` of (N,) tensors
    (each a loss term of the problem); the time derivative is left out when ``steady``. ``nu`` (kinematic
    viscosity) and ``convection`` (:math:`\lambda`, 1 for the physical equations) are numbers or names of
    trainable PDE parameters (inverse problems). ``force`` (optional) maps the points (N, d) to a body force
    (N, dim). The pressure enters through its gradient only, so it is fixed up to a constant (a function of
    time when unsteady) by a condition such as :class:`~pinnkit.pde.PointValue` or
    :class:`~pinnkit.pde.MeanValue`, or by boundary data on ``p``.

    Defaults: ``velocity = ("u", "v"[, "w"])``, ``space = ("x", "y"[, "z"])``, time ``t``.
    """
    if dim not in (2, 3) or isinstance(dim, bool):
        raise ValueError(f"dim must be 2 or 3; got {dim!r}")
    if not isinstance(steady, bool):
        raise ValueError(f"steady must be True or False; got {steady!r}")
    vel = _check_names(velocity if velocity is not None else ("u", "v", "w")[:dim], dim, "velocity")
    xs = _check_names(space if space is not None else ("x", "y", "z")[:dim], dim, "space")
    if not isinstance(pressure, str):
        raise ValueError(f"pressure must be the name of the pressure output; got {pressure!r}")
    force = _check_force(force, dim)

    def residual(f: Fields) -> dict[str, Tensor]:
        lam, visc = _coef(f, convection), _coef(f, nu)
        speed = [f.d(c) for c in vel]
        body = None if force is None else force(f.points)
        terms = {}
        for i, ui in enumerate(vel):
            r = lam * sum(speed[j] * f.d(ui, xs[j]) for j in range(dim)) + f.d(pressure, xs[i]) \
                - visc * sum(f.d(ui, c, c) for c in xs)
            if not steady:
                r = f.d(ui, t) + r
            if body is not None:
                r = r - body[..., i]
            terms[_MOMENTUM[i]] = r
        terms["continuity"] = sum(f.d(vel[j], xs[j]) for j in range(dim))
        return terms

    return residual


def navier_stokes_stream_function(nu: Coefficient, *, convection: Coefficient = 1.0, steady: bool = True,
                                  psi: str = "psi", pressure: str = "p", space: Sequence[str] = ("x", "y"),
                                  t: str = "t", force: Callable[[Tensor], Tensor] | None = None
                                  ) -> Callable[[Fields], dict]:
    r"""2-D incompressible Navier–Stokes with the velocity from a stream function: outputs ``psi`` and ``p``.

    With :math:`u = \partial_y \psi` and :math:`v = -\partial_x \psi` the velocity is divergence-free by
    construction, so only the momentum terms remain:

    .. math::

        \text{momentum}_x = u_t + \lambda (u u_x + v u_y) + p_x - \nu \Delta u - f_x, \qquad
        \text{momentum}_y = v_t + \lambda (u v_x + v v_y) + p_y - \nu \Delta v - f_y,

    returned as ``{"momentum_x", "momentum_y"}``; third derivatives of ``psi`` appear in the viscous terms.
    Coefficients and ``force`` are as in :func:`navier_stokes`.
    """
    if not isinstance(steady, bool):
        raise ValueError(f"steady must be True or False; got {steady!r}")
    x, y = _check_names(space, 2, "space")
    force = _check_force(force, 2)

    def residual(f: Fields) -> dict[str, Tensor]:
        lam, visc = _coef(f, convection), _coef(f, nu)
        u, v = f.d(psi, y), -f.d(psi, x)
        u_x, u_y, v_x, v_y = f.d(psi, x, y), f.d(psi, y, y), -f.d(psi, x, x), -f.d(psi, x, y)
        lap_u = f.d(psi, x, x, y) + f.d(psi, y, y, y)
        lap_v = -f.d(psi, x, x, x) - f.d(psi, x, y, y)
        r_x = lam * (u * u_x + v * u_y) + f.d(pressure, x) - visc * lap_u
        r_y = lam * (u * v_x + v * v_y) + f.d(pressure, y) - visc * lap_v
        if not steady:
            r_x, r_y = f.d(psi, y, t) + r_x, -f.d(psi, x, t) + r_y
        if force is not None:
            body = force(f.points)
            r_x, r_y = r_x - body[..., 0], r_y - body[..., 1]
        return {"momentum_x": r_x, "momentum_y": r_y}

    return residual
