r"""Finite-difference reference for the diffusion–reaction equation with a source, for many sources at once.

Problem
-------
.. math::

    u_t = D\, u_{xx} - k\, u^2 + v(x), \qquad x \in [a, b],\ t \in [0, T],

    u(a, t) = u(b, t) = 0, \qquad u(x, 0) = 0,

the physics-informed DeepONet benchmark of Wang, Wang & Perdikaris (2021) with ``D = k = 0.01`` on
``[0, 1] x [0, 1]``.

Scheme
------
Second-order central differences on ``nx`` uniform nodes (``h = (b - a) / (nx - 1)``) and the Crank–Nicolson
/ Adams–Bashforth (CNAB2) time stepping with ``dt = T / ((nt - 1) * substeps)``: the stiff linear part
``D u_xx + v`` implicitly by the trapezoidal rule, the reaction explicitly by second-order extrapolation,

.. math::

    \Big(I - \tfrac{dt}{2} D L\Big) u^{n+1} = \Big(I + \tfrac{dt}{2} D L\Big) u^n + dt\, v
        - dt\, k \Big(\tfrac32 (u^n)^2 - \tfrac12 (u^{n-1})^2\Big),

with one Heun (explicit trapezoidal) step for the reaction to start. Second order in ``h`` and ``dt``; the
tridiagonal system is solved once per step for all sources together (``scipy.linalg.solve_banded``). The
tests check the order by grid convergence and the linear case ``k = 0`` against its exact solution.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.linalg import solve_banded

from ...checks import check_positive_int


def diffusion_reaction(source: np.ndarray | Callable[[np.ndarray], np.ndarray], *, diffusion: float = 0.01,
                       reaction: float = 0.01, interval: tuple[float, float] = (0.0, 1.0), duration: float = 1.0,
                       nx: int = 101, nt: int = 101, substeps: int = 4
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve the problem of the module docstring for ``M`` sources at once.

    Arguments
    ---------
    source: values (M, nx) or (nx,) of ``v`` at the nodes ``x``, or a callable ``x (nx,) -> (nx,)`` or (M, nx).
    diffusion, reaction: ``D >= 0`` and ``k``.
    interval, duration: ``[a, b]`` and ``T``.
    nx, nt: nodes in x (at least 3) and output times ``t_j = j T / (nt - 1)`` (at least 2).
    substeps: time steps between output times.

    Returns ``x`` (nx,), ``t`` (nt,) and ``u`` (M, nx, nt) float64 with ``u[m, i, j] = u_m(x_i, t_j)``, so that
    ``u[m].reshape(-1)`` is in the order of ``itertools.product(x, t)`` / ``torch.cartesian_prod(x, t)``.
    """
    nx, nt = check_positive_int(nx, "nx"), check_positive_int(nt, "nt")
    substeps = check_positive_int(substeps, "substeps")
    if nx < 3 or nt < 2:
        raise ValueError(f"nx must be >= 3 and nt >= 2; got nx={nx}, nt={nt}")
    a, b = (float(c) for c in interval)
    if not a < b:
        raise ValueError(f"interval must be (a, b) with a < b; got {interval!r}")
    if not (np.isfinite(diffusion) and diffusion >= 0 and np.isfinite(reaction)):
        raise ValueError(f"diffusion must be >= 0 and reaction finite; got {diffusion!r}, {reaction!r}")
    if not (np.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be positive; got {duration!r}")
    x = np.linspace(a, b, nx)
    t = np.linspace(0.0, duration, nt)
    v = np.asarray(source(x) if callable(source) else source, dtype=np.float64)
    if v.ndim == 1:
        v = v[None]
    if v.ndim != 2 or v.shape[1] != nx:
        raise ValueError(f"source must have shape (M, nx) or (nx,) with nx = {nx}; got {v.shape}")
    m, h, dt = len(v), (b - a) / (nx - 1), duration / ((nt - 1) * substeps)
    n = nx - 2  # interior nodes; u = 0 at both ends
    r = diffusion * dt / (2 * h * h)
    lhs = np.zeros((3, n))
    lhs[0, 1:], lhs[1], lhs[2, :-1] = -r, 1 + 2 * r, -r

    def explicit_half(w: np.ndarray) -> np.ndarray:  # (I + dt/2 D L) w on the interior, w (n, M)
        out = (1 - 2 * r) * w
        out[1:] += r * w[:-1]
        out[:-1] += r * w[1:]
        return out

    source_dt = dt * v[:, 1:-1].T  # (n, M)
    u = np.zeros((n, m))
    previous_reaction = None
    result = np.zeros((m, nx, nt))
    for j in range(1, nt):
        for _ in range(substeps):
            react = -reaction * u * u
            if previous_reaction is None:  # Heun for the reaction on the first step
                guess = solve_banded((1, 1), lhs, explicit_half(u) + source_dt + dt * react)
                forcing = 0.5 * (react - reaction * guess * guess)
            else:
                forcing = 1.5 * react - 0.5 * previous_reaction
            u, previous_reaction = solve_banded((1, 1), lhs, explicit_half(u) + source_dt + dt * forcing), react
        result[:, 1:-1, j] = u.T
    return x, t, result
