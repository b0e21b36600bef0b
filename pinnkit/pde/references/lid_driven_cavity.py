r"""Classical reference solution of the steady lid-driven cavity: stream function–vorticity finite differences.

Problem
-------
Steady incompressible Navier–Stokes flow in the unit square :math:`\Omega = [0, 1]^2` (kinematic pressure
:math:`p`, viscosity :math:`\nu = 1 / \mathrm{Re}` for a lid speed scale of 1 and a side of 1),

.. math::

    (\mathbf u \cdot \nabla)\mathbf u + \nabla p = \nu\, \Delta \mathbf u, \qquad \nabla \cdot \mathbf u = 0,

with no slip on the bottom and side walls and the top wall (the lid, ``y = 1``) sliding with
``u = U(x)``, ``v = 0``:

* ``lid="uniform"``: ``U = 1`` (the classic case; the velocity is discontinuous at the two top corners, where
  the vorticity and the pressure are unbounded);
* ``lid="parabolic"``: ``U = 4 x (1 - x)`` (PINNacle's NS2d-C; continuous at the corners);
* or any callable ``U(x)`` of a numpy array.

Stream function–vorticity form
------------------------------
With :math:`u = \psi_y`, :math:`v = -\psi_x` and :math:`\omega = v_x - u_y` the continuity equation holds
identically and the pressure drops out:

.. math::

    \Delta \psi = -\omega, \qquad
    \psi_y\, \omega_x - \psi_x\, \omega_y = \nu\, \Delta \omega ,

with ``psi = 0`` on the whole boundary (the walls are one streamline) and the tangential velocity entering
through the wall vorticity.

Discretisation
--------------
A uniform grid of ``n x n`` nodes, spacing ``h = 1 / (n - 1)``. At the interior nodes both equations are
discretised with second-order central differences (the five-point Laplacian; central first derivatives in the
convective Jacobian; the cell Reynolds number ``h / nu`` is below 2 for ``n >= 51`` at ``Re = 100``, so no
upwinding is needed). The wall vorticity is Thom's formula, from the Taylor expansion of ``psi`` normal to the
wall (``psi = 0`` and ``psi_tt = 0`` along it, normal derivative equal to the tangential wall velocity):

.. math::

    \omega_{\text{wall}} = -\frac{2\, \psi_{\text{adjacent}}}{h^2} - \frac{2\, U_{\text{tangential}}}{h}

(``U_tangential = U(x)`` on the lid, 0 elsewhere). Thom's formula is first order locally, but the resulting
interior solution converges at second order (Napolitano, Pascazio & Quartapelle, Comput. Fluids 28, 1999), as
measured below. The corner vorticity (used only for the pressure) is the mean of its two wall neighbours.

Newton's method
---------------
The unknowns are ``psi`` and ``omega`` at the ``(n - 2)^2`` interior nodes (the wall vorticity is eliminated by
Thom's formula, which is linear in ``psi``). The residual ``F(psi, omega)`` is quadratic; its exact Jacobian is
assembled as a sparse matrix and each Newton step is one sparse LU solve (:func:`scipy.sparse.linalg.splu`). The
first step from zero solves Stokes flow exactly; at ``Re = 100`` undamped Newton then converges quadratically
(5–6 steps to ``1e-13``). It stops when the update is below ``tol`` times the solution (max norms).

Newton from Stokes flow is robust only up to a few hundred, so above ``Re = 100`` the solution is continued in the
Reynolds number: solved at ``Re = 100`` first, then at ``Re`` at most twice the last one reached, each Newton
iteration starting from the previous solution (``100, 200, 400, 800, 1000`` for ``Re = 1000``). A continuation
step that has not converged in ``CONTINUATION_STEPS`` Newton steps is halved, and the next increment after one
that succeeds is doubled back (up to the Re reached).

Velocity and pressure
---------------------
``u = D_y psi`` and ``v = -D_x psi`` by central differences at the interior nodes, the wall velocities on the
walls (``u = U(x)`` on the lid, corners included). The pressure gradient follows from the momentum equation,
using :math:`\Delta \mathbf u = (-\omega_y, \omega_x)` for a divergence-free field:

.. math::

    \nabla p = \mathbf G := -(\mathbf u \cdot \nabla)\mathbf u + \nu\, (-\omega_y,\ \omega_x),

evaluated at every node (central differences inside, second-order one-sided differences on the walls; ``G`` at a
corner is the mean of its two wall neighbours). ``p`` is the least-squares fit of its edge differences to ``G``,
:math:`\min_p \sum_{\text{edges}} \big((p_b - p_a)/h - (G_a + G_b)\cdot e / 2\big)^2` over all grid edges
``a -> b`` (direction ``e``): its normal equations are the five-point pressure Poisson equation
:math:`\Delta_h p = \nabla_h \cdot \mathbf G` with the Neumann condition :math:`\partial_n p = \mathbf G \cdot n`
built in (the natural boundary condition of the fit), always solvable. ``p`` is defined up to a constant and is
returned with zero mean over the grid nodes.

Accuracy measured (``Re = 100``)
--------------------------------
Grid refinement: max difference between successive grids over the interior centreline nodes that all grids share
(``u(0.5, k/32)`` and ``v(k/32, 0.5)``, ``k = 1 ... 31``), and the observed order ``log2`` of the ratio of
successive differences:

=========  ==============  ==============  ===============  ===============  ======================
lid        33 vs 65        65 vs 129       129 vs 257       orders           Newton steps, residual
=========  ==============  ==============  ===============  ===============  ======================
uniform    1.16e-2         2.85e-3         7.03e-4          2.03, 2.02       6, < 5e-11
parabolic  8.15e-3         2.06e-3         5.16e-4          1.98, 2.00       6, < 5e-11
=========  ==============  ==============  ===============  ===============  ======================

so the 129-node centrelines are within about ``1e-3`` of the grid-converged profiles (Richardson: the 129-257
difference divided by 3 plus itself). The interior fields converge at the same rate; the pressure does not
converge at the top corners, where it is unbounded (uniform lid) or logarithmically singular (parabolic lid).

Published values: on the 129-node grid the uniform-lid centrelines are within ``4.2e-3`` (u, Table I) and
``8.4e-3`` (v, Table II) of Ghia et al.'s Re = 100 values at their 30 interior stations; the 257-node grid differs
from Ghia by about as much (``4.8e-3``, ``9.1e-3``), so the difference is not this grid's discretisation error
(Ghia's profiles are slightly weaker than the grid-converged ones here). The stream-function minimum is
``-0.10332`` at ``(0.6172, 0.7344)`` (129 nodes; ``-0.10347`` with 257) against Ghia's ``-0.103423`` at the same
node. In the Stokes limit (``Re = 1e-3``) the
minimum is ``-0.10006`` (129) and ``-0.100072`` (257) at ``(0.5, 0.7656)`` (Richardson limit ``-0.100076``).

Accuracy measured (``Re = 1000``, uniform lid)
----------------------------------------------
Continued ``100, 200, 400, 800, 1000`` (29 Newton steps in all; 7 s for 129 nodes, 65 s for 257). The extrema
of the centreline velocities, ``min u(0.5, y)``, ``max v(x, 0.5)`` and ``min v(x, 0.5)``, differ from Botella &
Peyret's spectral values (``-0.3885698, 0.3769447, -0.5270771``) by ``1.3e-2, 1.3e-2, 1.7e-2`` on 129 nodes and
``3.3e-3, 3.4e-3, 4.2e-3`` on 257 and ``8.1e-4, 8.3e-4, 1.1e-3`` on 513 (900 s): second order (at ``Re = 1000``
the cell Reynolds number is 7.8 on 129 nodes). The Richardson limits of 129/257 and of 257/513 agree with Botella
& Peyret to ``7.5e-6`` and ``7.8e-6``. At Ghia et al.'s Re = 1000 stations the 129-node solution is within
``1.4e-2`` (u) and ``8.0e-3`` (v) of their table, the 257-node one within ``2.9e-3`` and ``1.3e-2``, and the
257/513 limit ``6.4e-3`` and ``1.8e-2``: the table's own distance from the converged flow.

Parabolic lid against PINNacle's COMSOL solution (10 201 nodes, pressure aligned by its mean difference):
relative L2 errors of ``u, v, p`` ``1.8e-3, 3.5e-3, 2.3e-2`` (129 nodes) and ``5.5e-4, 9.8e-4, 7.4e-3``
(257 nodes); pooled ``(u, v, p)`` ``7.3e-3`` and ``2.4e-3``. Away from the walls (distance ``> 0.05``) the 257-node
errors are ``5.6e-4, 7.1e-4, 1.2e-3``; the largest pressure differences sit at the two top corners.

Cost on one CPU thread of this project's machine (shared): ``n = 65`` 0.3 s, ``129`` 2 s, ``257`` 25 s (six sparse
LU factorisations each).

References: U. Ghia, K. N. Ghia, C. T. Shin, "High-Re solutions for incompressible flow using the Navier–Stokes
equations and a multigrid method", J. Comput. Phys. 48 (1982) 387–411; A. Thom, Proc. R. Soc. Lond. A 141
(1933) 651–669; M. Napolitano, G. Pascazio, L. Quartapelle, "A review of vorticity conditions in the numerical
solution of the zeta–psi equations", Comput. Fluids 28 (1999) 139–185; O. Botella, R. Peyret, "Benchmark
spectral results on the lid-driven cavity flow", Comput. Fluids 27 (1998) 421–433; PINNacle (Hao et al., NeurIPS 2024)
for the parabolic lid.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.interpolate import RectBivariateSpline
from scipy.sparse.linalg import splu

__all__ = ["CavityFlow", "cavity_lid", "lid_driven_cavity"]

LIDS = ("uniform", "parabolic")
#: Newton starts from Stokes flow up to this Re; beyond it, from the solution at a smaller Re (continuation).
CONTINUATION_START = 100.0
#: Newton steps allowed at an intermediate Re of the continuation before its increment is halved.
CONTINUATION_STEPS = 12
#: The smallest continuation increment, relative to the Re reached, before the solver gives up.
MIN_CONTINUATION_STEP = 1e-3


def cavity_lid(lid: str | Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """The lid velocity ``U(x)`` of ``lid``: ``"uniform"`` (1), ``"parabolic"`` (``4 x (1 - x)``) or a callable
    (returned as it is). ``x`` is a float64 array of any shape; ``U(x)`` has the same shape."""
    if callable(lid):
        return lid
    if lid == "uniform":
        return lambda x: np.ones_like(np.asarray(x, dtype=np.float64))
    if lid == "parabolic":
        return lambda x: 4.0 * np.asarray(x, dtype=np.float64) * (1.0 - np.asarray(x, dtype=np.float64))
    raise ValueError(f"lid must be one of {LIDS} or a callable U(x); got {lid!r}")


@dataclass(frozen=True)
class CavityFlow:
    """A steady lid-driven cavity flow on the nodes of a uniform ``n x n`` grid of ``[0, 1]^2``.

    Every field has shape ``(n, n)`` with ``field[i, j]`` the value at ``(x[i], y[j])`` (``"ij"`` indexing).

    Attributes
    ----------
    x, y : np.ndarray, shape ``(n,)``
        ``linspace(0, 1, n)``.
    u, v, p : np.ndarray, shape ``(n, n)``
        Velocity and kinematic pressure (zero mean over the nodes; defined up to a constant).
    psi, omega : np.ndarray, shape ``(n, n)``
        Stream function (``u = psi_y``, ``v = -psi_x``) and vorticity ``omega = v_x - u_y``.
    reynolds : float
    newton_steps : int
        Newton iterations taken, over all Reynolds numbers of the continuation.
    residual : float
        Max norm of the discrete residual (both equations, interior nodes) at the returned solution.
    reynolds_path : tuple of float
        The Reynolds numbers solved in turn (the last is ``reynolds``): ``(reynolds,)`` up to Re = 100, then the
        continuation's steps.
    """

    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    p: np.ndarray
    psi: np.ndarray
    omega: np.ndarray
    reynolds: float
    newton_steps: int
    residual: float
    reynolds_path: tuple[float, ...] = ()
    _splines: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n(self) -> int:
        """Nodes per side."""
        return self.x.size

    def centerlines(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(y, u(0.5, y), x, v(x, 0.5))``, each of shape ``(n,)``: the grid column and row through the centre
        (``n`` is odd, so ``x = 0.5`` and ``y = 0.5`` are grid lines)."""
        mid = (self.n - 1) // 2
        return self.y.copy(), self.u[mid, :].copy(), self.x.copy(), self.v[:, mid].copy()

    def __call__(self, points: Any) -> np.ndarray:
        """``(u, v, p)`` at arbitrary ``points`` ``(m, 2)`` in ``[0, 1]^2``, shape ``(m, 3)``, by bicubic spline
        interpolation of the grid values (exact at the nodes)."""
        pts = np.asarray(points.detach().cpu() if hasattr(points, "detach") else points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise ValueError(f"points must have shape (m, 2) with columns x, y; got {pts.shape}")
        if pts.size and (pts.min() < -1e-12 or pts.max() > 1 + 1e-12):
            raise ValueError("points must lie in the unit square [0, 1]^2")
        out = np.empty((pts.shape[0], 3))
        for k, name in enumerate(("u", "v", "p")):
            if name not in self._splines:
                self._splines[name] = RectBivariateSpline(self.x, self.y, getattr(self, name), kx=3, ky=3, s=0)
            out[:, k] = self._splines[name].ev(pts[:, 0], pts[:, 1])
        return out


def _first_derivative_1d(n: int, h: float) -> sp.csr_matrix:
    """``(n, n)`` first derivative: central inside, second-order one-sided at both ends."""
    d = sp.lil_matrix((n, n))
    for i in range(1, n - 1):
        d[i, i - 1], d[i, i + 1] = -0.5, 0.5
    d[0, 0:3] = [-1.5, 2.0, -0.5]
    d[n - 1, n - 3:n] = [0.5, -2.0, 1.5]
    return (d / h).tocsr()


def _second_derivative_1d(n: int, h: float) -> sp.csr_matrix:
    """``(n, n)`` three-point second derivative (its end rows are zero: used at interior nodes only)."""
    main = np.full(n, -2.0)
    off = np.ones(n - 1)
    d = sp.diags([off, main, off], [-1, 0, 1], format="lil")
    d[0, :] = 0.0
    d[n - 1, :] = 0.0
    return (d / (h * h)).tocsr()


def _check_arguments(n: Any, reynolds: Any, tol: Any, max_newton: Any) -> tuple[int, float, float, int]:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 5 or n % 2 == 0:
        raise ValueError(f"n must be an odd integer >= 5 (nodes per side, so that the centre lines are grid "
                         f"lines); got {n!r}")
    if isinstance(reynolds, bool) or not isinstance(reynolds, numbers.Real) or not (
            math.isfinite(reynolds) and reynolds > 0):
        raise ValueError(f"reynolds must be a positive finite number; got {reynolds!r}")
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1); got {tol!r}")
    if isinstance(max_newton, bool) or not isinstance(max_newton, numbers.Integral) or max_newton < 1:
        raise ValueError(f"max_newton must be a positive integer; got {max_newton!r}")
    return int(n), float(reynolds), float(tol), int(max_newton)


def lid_driven_cavity(n: int = 129, reynolds: float = 100.0, lid: str | Callable[[np.ndarray], np.ndarray] = "uniform",
                      *, tol: float = 1e-12, max_newton: int = 30) -> CavityFlow:
    """Steady lid-driven cavity flow on an ``n x n`` grid by Newton's method (see the module docstring).

    Parameters
    ----------
    n : int
        Nodes per side, odd, ``>= 5`` (129 by default, as Ghia et al.). Cost at ``Re = 100`` on one CPU thread:
        about 2 s for 129, 25 s for 257.
    reynolds : float
        ``Re = 1 / nu`` (lid speed scale 1, side 1). Above Re = 100 the solution is continued in Re from
        Re = 100 (module docstring).
    lid : ``"uniform"``, ``"parabolic"`` or callable
        Lid velocity ``U(x)`` (see :func:`cavity_lid`).
    tol : float
        Stop when the max-norm Newton update is below ``tol`` times the max norm of the solution.
    max_newton : int
        Newton steps allowed at ``reynolds``; ``RuntimeError`` if the iteration has not converged by then (or if
        a continuation step cannot be made to converge by halving it).

    Returns
    -------
    CavityFlow
        Fields on the grid, centrelines, and interpolation at any points.
    """
    n, reynolds, tol, max_newton = _check_arguments(n, reynolds, tol, max_newton)
    lid_velocity = cavity_lid(lid)
    nu = 1.0 / reynolds
    h = 1.0 / (n - 1)
    x = np.linspace(0.0, 1.0, n)
    lid_u = np.asarray(lid_velocity(x), dtype=np.float64)
    if lid_u.shape != x.shape or not np.all(np.isfinite(lid_u)):
        raise ValueError(f"lid(x) must return finite values of the shape of x {x.shape}; got {lid_u.shape}")

    identity = sp.identity(n, format="csr")
    d1 = _first_derivative_1d(n, h)
    dx, dy = sp.kron(d1, identity, format="csr"), sp.kron(identity, d1, format="csr")
    d2 = _second_derivative_1d(n, h)
    laplacian = (sp.kron(d2, identity) + sp.kron(identity, d2)).tocsr()

    index = np.arange(n * n).reshape(n, n)
    inner = index[1:-1, 1:-1].ravel()
    m = inner.size
    prolong = sp.csr_matrix((np.ones(m), (inner, np.arange(m))), shape=(n * n, m))  # interior -> full grid
    restrict = prolong.T.tocsr()

    # Thom's wall vorticity: omega_wall = -2 psi_adjacent / h^2 - 2 U / h (non-corner wall nodes)
    rows, cols = [], []
    for k in range(1, n - 1):
        rows += [index[0, k], index[n - 1, k], index[k, 0], index[k, n - 1]]
        cols += [index[1, k], index[n - 2, k], index[k, 1], index[k, n - 2]]
    position = np.full(n * n, -1)
    position[inner] = np.arange(m)
    thom = sp.csr_matrix((np.full(len(rows), -2.0 / h**2), (rows, position[cols])), shape=(n * n, m))
    lid_term = np.zeros(n * n)
    lid_term[index[1:-1, n - 1]] = -2.0 * lid_u[1:-1] / h

    a_lap = restrict @ laplacian
    a_psi = (a_lap @ prolong).tocsc()
    lap_omega = (a_lap @ prolong).tocsc()
    lap_thom = (a_lap @ thom).tocsc()
    dx_p, dy_p, dx_t, dy_t = dx @ prolong, dy @ prolong, dx @ thom, dy @ thom
    eye = sp.identity(m, format="csc")

    def fields(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        psi_full = prolong @ z[:m]
        omega_full = prolong @ z[m:] + thom @ z[:m] + lid_term
        return psi_full, omega_full

    def residual(z: np.ndarray, nu: float) -> np.ndarray:
        psi_full, omega_full = fields(z)
        f1 = a_lap @ psi_full + z[m:]
        jac = (dy @ psi_full) * (dx @ omega_full) - (dx @ psi_full) * (dy @ omega_full)
        f2 = nu * (a_lap @ omega_full) - restrict @ jac
        return np.concatenate([f1, f2])

    def jacobian(z: np.ndarray, nu: float) -> sp.csc_matrix:
        psi_full, omega_full = fields(z)
        psi_x, psi_y = sp.diags(dx @ psi_full), sp.diags(dy @ psi_full)
        omega_x, omega_y = sp.diags(dx @ omega_full), sp.diags(dy @ omega_full)
        conv_psi = omega_x @ dy_p + psi_y @ dx_t - omega_y @ dx_p - psi_x @ dy_t
        conv_omega = psi_y @ dx_p - psi_x @ dy_p
        j21 = nu * lap_thom - restrict @ conv_psi
        j22 = nu * lap_omega - restrict @ conv_omega
        return sp.bmat([[a_psi, eye], [j21, j22]], format="csc")

    def newton(z: np.ndarray, nu: float, limit: int) -> tuple[np.ndarray, int] | None:
        """Newton's method for viscosity ``nu`` from ``z``: the solution and the steps, or None if it has not
        converged in ``limit`` steps (or left the finite numbers, or met a singular Jacobian)."""
        z = z.copy()
        for step in range(1, limit + 1):
            try:
                update = splu(jacobian(z, nu)).solve(-residual(z, nu))
            except RuntimeError:  # SuperLU: the Jacobian is singular at this iterate
                return None
            z += update
            if not np.all(np.isfinite(z)):
                return None
            if np.max(np.abs(update)) <= tol * max(np.max(np.abs(z)), 1e-300):
                return z, step
        return None

    z, steps, path = np.zeros(2 * m), 0, []
    # Reynolds-number continuation: Newton from Stokes flow (z = 0) up to CONTINUATION_START, then from each
    # solution to the next Re; the increment starts at (and is capped by) the Re reached, is halved when a step
    # fails and doubled back after a step that succeeds
    current, increment = 0.0, 0.0
    while current < reynolds:
        target = min(reynolds, CONTINUATION_START if current == 0.0 else current + increment)
        limit = max_newton if current == 0.0 or target == reynolds else CONTINUATION_STEPS
        solved = newton(z, 1.0 / target, limit)
        if solved is None:
            if current == 0.0 or target - current < MIN_CONTINUATION_STEP * current:
                start = "Stokes flow" if current == 0.0 else f"the solution at Re = {current:g}"
                raise RuntimeError(f"Newton's method did not converge in {limit} steps (Re = {target:g}, n = {n}, "
                                   f"starting from {start})")
            increment = 0.5 * (target - current)
            continue
        z, taken = solved
        steps += taken
        current = target
        increment = min(2.0 * increment, current) if increment else current
        path.append(current)
    final_residual = float(np.max(np.abs(residual(z, nu))))

    psi_full, omega_full = fields(z)
    omega = omega_full.reshape(n, n)
    for ci, cj in ((0, 0), (0, n - 1), (n - 1, 0), (n - 1, n - 1)):
        ni = 1 if ci == 0 else n - 2
        nj = 1 if cj == 0 else n - 2
        omega[ci, cj] = 0.5 * (omega[ni, cj] + omega[ci, nj])
    omega_full = omega.ravel()
    psi = psi_full.reshape(n, n)

    u = (dy @ psi_full).reshape(n, n)
    v = -(dx @ psi_full).reshape(n, n)
    u[0, :] = u[n - 1, :] = u[:, 0] = 0.0
    v[0, :] = v[n - 1, :] = v[:, 0] = v[:, n - 1] = 0.0
    u[:, n - 1] = lid_u
    p = _pressure(u, v, omega, nu, dx, dy, h)
    return CavityFlow(x=x, y=x.copy(), u=u, v=v, p=p, psi=psi, omega=omega, reynolds=reynolds,
                      newton_steps=steps, residual=final_residual, reynolds_path=tuple(path))


def _pressure(u: np.ndarray, v: np.ndarray, omega: np.ndarray, nu: float, dx: sp.csr_matrix, dy: sp.csr_matrix,
              h: float) -> np.ndarray:
    """Pressure ``(n, n)`` (zero mean) whose edge differences best fit the momentum equation's gradient."""
    n = u.shape[0]
    uf, vf, wf = u.ravel(), v.ravel(), omega.ravel()
    gx = (-(uf * (dx @ uf) + vf * (dy @ uf)) - nu * (dy @ wf)).reshape(n, n)
    gy = (-(uf * (dx @ vf) + vf * (dy @ vf)) + nu * (dx @ wf)).reshape(n, n)
    for g in (gx, gy):
        for ci, cj in ((0, 0), (0, n - 1), (n - 1, 0), (n - 1, n - 1)):
            ni = 1 if ci == 0 else n - 2
            nj = 1 if cj == 0 else n - 2
            g[ci, cj] = 0.5 * (g[ni, cj] + g[ci, nj])
    index = np.arange(n * n).reshape(n, n)
    # edges a -> b in x (i -> i + 1) and in y (j -> j + 1); rows of the difference operator
    a_x, b_x = index[:-1, :].ravel(), index[1:, :].ravel()
    a_y, b_y = index[:, :-1].ravel(), index[:, 1:].ravel()
    a = np.concatenate([a_x, a_y])
    b = np.concatenate([b_x, b_y])
    edges = a.size
    diff = sp.csr_matrix((np.concatenate([-np.ones(edges), np.ones(edges)]) / h,
                          (np.tile(np.arange(edges), 2), np.concatenate([a, b]))), shape=(edges, n * n))
    target = np.concatenate([0.5 * (gx[:-1, :] + gx[1:, :]).ravel(), 0.5 * (gy[:, :-1] + gy[:, 1:]).ravel()])
    normal = (diff.T @ diff).tocsc()
    rhs = diff.T @ target
    # the normal matrix is singular (constants); pin node 0, then shift to zero mean
    p = np.zeros(n * n)
    p[1:] = splu(normal[1:, 1:].tocsc()).solve(rhs[1:])
    p -= p.mean()
    return p.reshape(n, n)
