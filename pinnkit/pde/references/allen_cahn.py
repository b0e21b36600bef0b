r"""Reference solution of the Allen–Cahn benchmark of Raissi et al. (2019), by Fourier pseudo-spectral ETDRK4.

Problem
-------
.. math::

    u_t = d\,u_{xx} + r\,(u - u^3), \qquad x \in [-1, 1] \text{ periodic},\ t \in [0, 1],

    u(x, 0) = x^2 \cos(\pi x), \qquad d = 10^{-4}, \quad r = 5 .

The reaction drives ``u`` to the stable states ``±1``: ``u -> +1`` where ``u(x, 0) > 0`` (``0 < |x| < 1/2``) and
``u -> -1`` where ``u(x, 0) < 0``. By ``t = 1`` the solution is two plateaus joined by fronts at ``x ~ ±1/2`` of
the (stationary) shape ``tanh(x / w)``, ``w = sqrt(2 d / r) ~ 0.0063``, plus a dip to ``u ~ 0.03`` at the
double zero ``x = 0`` of the initial condition. The periodic extension of ``u(x, 0)`` is continuous but has a
kink at ``x = ±1`` (slopes ``-2`` and ``+2``), smoothed by diffusion over a width ``~ sqrt(d t)``.

Space: Fourier pseudo-spectral
------------------------------
``u`` is represented by its ``modes``-point real discrete Fourier transform on the periodic grid
``x_n = -1 + 2 n / modes``, ``n = 0, ..., modes - 1`` (so ``x = -1`` and ``x = 1`` are the same point), i.e. by
the trigonometric polynomial

.. math::

    u(x) = \frac{1}{N}\Big[c_0 + 2\,\mathrm{Re}\sum_{j=1}^{N/2-1} c_j e^{i \pi j (x + 1)}
           + c_{N/2} \cos\!\big(\tfrac{\pi N}{2}(x + 1)\big)\Big], \qquad N = \texttt{modes},

with wavenumbers ``k_j = pi j``. The solution is evaluated at any ``x`` by summing this polynomial exactly (the
trigonometric interpolant of the grid values). The initial coefficients are the *exact* Fourier coefficients of
``x^2 cos(pi x)`` (truncated Fourier series, from ``int_{-1}^{1} x^2 cos(pi m x) dx = 4 (-1)^m / (pi m)^2``,
``2/3`` for ``m = 0``), not the DFT of grid samples: the kink at ``x = ±1`` makes sampled coefficients wrong by
``O(N^-2)`` in *every* mode (aliasing), an error that the low modes keep for all time (measured ``3.9e-10`` at
``t = 1`` with 2048 modes, falling only like ``N^-2``), whereas the truncation error sits in the modes
``|k| > pi N / 2``, which diffusion damps like ``exp(-d k^2 t)``. At ``t = 0`` the initial condition is returned
exactly.

Time: ETDRK4
------------
With ``v = (c_j)``, the linear part ``L_j = r - d k_j^2`` (diagonal) is split from the nonlinear part
``N(v) = DFT(-r u^3)`` (computed on the grid, without dealiasing), and ``v`` is advanced by the fourth-order
exponential time-differencing Runge–Kutta scheme of Cox & Matthews (2002), :mod:`pinnkit.pde.references.etdrk4`
(its ``phi_k`` functions are within 3 ulp of 120-digit values for real ``z`` in ``[-1000, 300]``, checked with
mpmath).

Arbitrary times
---------------
The distinct requested times are sorted and the grid is marched once with the fixed step ``dt``, keeping the
state at ``floor(t / dt) dt`` for each requested ``t``. A time within ``1e-9 dt`` of a multiple of ``dt`` takes that
state; any other time gets one extra ETDRK4 step of length ``h = t - floor(t / dt) dt < dt`` from it (a branch:
the main march is not changed, so ``u(x, t)`` does not depend on which other times were requested). Every time
therefore has the accuracy of the integrator (no interpolation in ``t``). Each off-grid distinct time costs one
step; the grid march costs ``ceil(t_max / dt)`` steps (10 000 random points with distinct times: about 4 s). The
times are processed in blocks of about ``2^19 / modes`` along the march, and each block's spectral states are
evaluated at its points and dropped, so memory stays bounded (~ 70 MB) for any number of points.

Accuracy measured (default ``d``, ``r``)
----------------------------------------
Max absolute difference over 2001 points of ``[-1, 1]`` (in brackets: over ``|x| < 0.9``) from ``modes = 16384``,
``dt = 2.5e-4``, which ``modes = 8192``, ``dt = 2.5e-4`` matches to ``2e-13`` at all these times:

=========  ======  =================  =================  =================  =================  =================
``modes``  ``dt``  t = 0.001          t = 0.01           t = 0.1            t = 0.5            t = 1
=========  ======  =================  =================  =================  =================  =================
512        1e-3    9.6e-04 (1.7e-05)  2.3e-04 (8.5e-06)  6.6e-08 (7.8e-09)  5.3e-11 (1.9e-11)  1.3e-05 (1.3e-05)
1024       1e-3    2.7e-04 (3.2e-06)  7.0e-06 (2.8e-07)  2.0e-10 (1.2e-11)  1.9e-11 (1.9e-11)  7.5e-11 (7.5e-11)
2048       1e-3    3.3e-05 (4.3e-07)  5.1e-10 (3.5e-11)  1.2e-11 (1.2e-11)  1.9e-11 (1.9e-11)  1.9e-11 (1.9e-11)
2048       2e-3    3.3e-05 (4.3e-07)  6.1e-10 (5.5e-11)  2.0e-10 (2.0e-10)  3.0e-10 (3.0e-10)  3.0e-10 (3.0e-10)
2048       5e-4    3.3e-05 (4.3e-07)  5.2e-10 (3.4e-11)  7.1e-12 (7.3e-13)  1.1e-12 (1.1e-12)  4.6e-12 (4.6e-12)
4096       1e-3    2.8e-07 (4.3e-09)  2.3e-11 (1.3e-12)  1.2e-11 (1.2e-11)  1.9e-11 (1.9e-11)  1.9e-11 (1.9e-11)
=========  ======  =================  =================  =================  =================  =================

Two errors remain. (1) The kink at ``x = ±1``: until diffusion has smoothed it over a few grid steps
(``sqrt(d t) >~ 2 / modes``) the truncated series is off near ``x = ±1``, with ``O(1/modes)`` Gibbs ripples
elsewhere; this sets the early-time columns. (2) The fronts: 512 modes (grid step ``0.0039``) do not resolve the
front width ``0.0063`` (the ``1.3e-5`` at ``x ~ -0.5``, ``t = 1``). With 2048 modes both are below the time-stepping
error from ``t ~ 0.01`` on, and that error is ``2e-11`` for ``dt = 1e-3`` (ETDRK4 is fourth order: ``dt = 2e-3``
gives ``3e-10``). The defaults ``modes = 2048``, ``dt = 1e-3`` are therefore accurate to ``~ 2e-11`` for
``t >= 0.03`` (``5e-10`` at ``t = 0.01``). Other ``d`` or ``r`` (front width ``sqrt(2 d / r)``) need their own
convergence check in ``modes`` and ``dt``.

Cost: :func:`allen_cahn_grid` with its defaults (1000 steps of 2048 modes, then 201 x 512 points) takes about
0.3 s on this project's CPU machine; every further factor 2 in ``modes`` or in ``1 / dt`` roughly doubles it.

References: S. M. Cox, P. C. Matthews, J. Comput. Phys. 176 (2002) 430–455; A.-K. Kassam, L. N. Trefethen,
SIAM J. Sci. Comput. 26 (2005) 1214–1233; M. Raissi, P. Perdikaris, G. E. Karniadakis, J. Comput. Phys. 378
(2019) 686–707.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ...checks import check_in_interval, check_non_negative_float, check_positive_int
from .etdrk4 import etdrk4_coefficients, etdrk4_step

__all__ = ["allen_cahn_grid", "allen_cahn_solution"]

MODES_DEFAULT = 2048
DT_DEFAULT = 1e-3
DIFFUSION_DEFAULT = 1e-4
REACTION_DEFAULT = 5.0
T_END = 1.0
_T_ROUNDING = 1e-12  # t in [-_T_ROUNDING, T_END + _T_ROUNDING] is accepted and clipped to [0, T_END]
_GRID_SNAP = 1e-9  # a time within this many steps dt of a multiple of dt is taken as that multiple
_CHUNK_ELEMENTS = 1 << 20  # points x Fourier coefficients per block: 1M float64 = 8 MiB per temporary array
_BLOCK_ELEMENTS = 1 << 18  # times x Fourier coefficients per block of the march: 256K complex = 4 MiB per array

def _as_float64(a: Any) -> np.ndarray:
    """numpy array or torch tensor (any device, with or without grad) or array-like -> float64 numpy array."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # torch.Tensor, without importing torch
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def _initial_condition(x: np.ndarray) -> np.ndarray:
    """``x^2 cos(pi x)`` of the 2-periodic extension, same shape as ``x`` (exact formula on ``[-1, 1]``)."""
    x = np.where(np.abs(x) <= 1.0, x, np.mod(x + 1.0, 2.0) - 1.0)
    return x * x * np.cos(np.pi * x)


def _initial_coefficients(modes: int) -> np.ndarray:
    """Exact Fourier coefficients of ``x^2 cos(pi x)`` in the ``rfft`` layout, complex, shape ``(modes // 2 + 1,)``.

    With ``u(x) = sum_{j in Z} a_j e^{i pi j (x + 1)}``, ``a_j = (1/2) int_{-1}^{1} u(x) e^{-i pi j (x + 1)} dx
    = (-1)^j (I_{j+1} + I_{j-1}) / 4`` with ``I_m = int_{-1}^{1} x^2 cos(pi m x) dx`` (``u`` is even). The ``rfft``
    coefficient is ``c_j = N a_j`` for ``0 <= j < N/2`` and ``c_{N/2} = N (a_{N/2} + a_{-N/2}) = 2 N a_{N/2}``, so that
    the interpolant of the module docstring is the truncated Fourier series with ``|j| <= N/2``.
    """
    j = np.arange(modes // 2 + 1)

    def moment(m: np.ndarray) -> np.ndarray:
        m = np.abs(m)
        sign = np.where(m % 2 == 0, 1.0, -1.0)
        return np.where(m == 0, 2.0 / 3.0, 4.0 * sign / (np.pi * np.maximum(m, 1)) ** 2)

    parity = np.where(j % 2 == 0, 1.0, -1.0)
    a = 0.25 * parity * (moment(j + 1) + moment(j - 1))
    c = modes * a
    c[-1] *= 2.0
    return c.astype(np.complex128)


def _march(
    v0: np.ndarray, times: np.ndarray, *, dt: float, diffusion: float, reaction: float
) -> Iterator[tuple[slice, np.ndarray]]:
    """Fourier coefficients at the given times, marching from ``v0`` at ``t = 0`` (see the module docstring).

    The times are handled in consecutive blocks (so that memory stays bounded however many there are), each
    after the grid march has reached it; the march itself is the same whatever the blocks.

    Parameters
    ----------
    v0 : np.ndarray, complex, shape ``(K,)``
        ``rfft`` coefficients at ``t = 0`` of a real field on ``N = 2 (K - 1)`` grid points of ``[-1, 1)``.
    times : np.ndarray, shape ``(m,)``
        Sorted, distinct times ``>= 0``.
    dt, diffusion, reaction : float
        Step of the grid march, ``d`` and ``r``.

    Yields
    ------
    block : slice
        A block ``times[block]`` of consecutive times; the blocks cover ``range(m)`` in order.
    v : np.ndarray, complex, shape ``(len(times[block]), K)``
        ``v[i]`` = coefficients at ``times[block][i]``.
    """
    size = v0.shape[-1]
    modes = 2 * (size - 1)
    k = np.pi * np.arange(size)
    lin = reaction - diffusion * k * k

    def nonlinear(v: np.ndarray) -> np.ndarray:
        u = np.fft.irfft(v, n=modes, axis=-1)
        return np.fft.rfft(-reaction * u * u * u, axis=-1)

    base = np.floor(times / dt + _GRID_SNAP).astype(np.int64)  # index of the grid time at or just below t
    h = times - base * dt
    on_grid = np.abs(h) <= _GRID_SNAP * dt

    full_step = etdrk4_coefficients(lin, dt)
    v = np.array(v0, dtype=np.complex128)
    step = 0
    chunk = max(1, _BLOCK_ELEMENTS // size)
    for start in range(0, times.size, chunk):
        block = slice(start, min(start + chunk, times.size))
        needed, position = np.unique(base[block], return_inverse=True)
        states = np.empty((needed.size, size), dtype=np.complex128)
        for i, target in enumerate(needed):
            while step < target:
                v = etdrk4_step(v, full_step, nonlinear)
                step += 1
            states[i] = v
        out = states[position.reshape(-1)]
        partial = np.flatnonzero(~on_grid[block])
        if partial.size:
            coefficients = etdrk4_coefficients(lin, h[block][partial, None])
            out[partial] = etdrk4_step(out[partial], coefficients, nonlinear)
        yield block, out


def _evolve(v0: np.ndarray, times: np.ndarray, *, dt: float, diffusion: float, reaction: float) -> np.ndarray:
    """All the coefficients of :func:`_march` at once, complex, shape ``(m, K)`` (for tests and small ``m``)."""
    out = np.empty((times.size, v0.shape[-1]), dtype=np.complex128)
    for block, v in _march(v0, times, dt=dt, diffusion=diffusion, reaction=reaction):
        out[block] = v
    return out


def _evaluate(v: np.ndarray, time_index: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Trigonometric interpolant of ``v[time_index[p]]`` at ``x[p]``, shape ``(p,)``.

    ``v`` has shape ``(m, K)`` (``rfft`` coefficients of ``N = 2 (K - 1)`` grid values on ``[-1, 1)``); ``x`` and
    ``time_index`` have shape ``(p,)``. When the points are a grid (few distinct ``x`` per distinct time) the
    interpolant is tabulated on all (time, distinct ``x``) pairs by matrix products; otherwise it is summed point
    by point.
    """
    size = v.shape[-1]
    modes = 2 * (size - 1)
    j = np.arange(size, dtype=np.float64)
    weight = np.full(size, 2.0 / modes)
    weight[0] = weight[-1] = 1.0 / modes
    re = v.real * weight
    im = v.imag * weight
    theta = np.pi * np.mod(x + 1.0, 2.0)  # in [0, 2 pi): x = -1 and x = 1 give the same value
    chunk = max(1, _CHUNK_ELEMENTS // size)
    theta_unique, x_index = np.unique(theta, return_inverse=True)
    x_index = x_index.reshape(-1)
    if v.shape[0] * theta_unique.size <= 4 * theta.size:
        table = np.empty((v.shape[0], theta_unique.size))
        for start in range(0, theta_unique.size, chunk):
            angle = theta_unique[start : start + chunk, None] * j
            table[:, start : start + chunk] = re @ np.cos(angle).T - im @ np.sin(angle).T
        return table[time_index, x_index]
    u = np.empty(theta.shape)
    for start in range(0, theta.size, chunk):
        sl = slice(start, start + chunk)
        angle = theta[sl, None] * j
        rows = time_index[sl]
        u[sl] = np.einsum("pk,pk->p", re[rows], np.cos(angle)) - np.einsum("pk,pk->p", im[rows], np.sin(angle))
    return u


def allen_cahn_solution(
    x: Any,
    t: Any,
    *,
    modes: int = MODES_DEFAULT,
    dt: float = DT_DEFAULT,
    diffusion: float = DIFFUSION_DEFAULT,
    reaction: float = REACTION_DEFAULT,
) -> np.ndarray:
    """Reference solution ``u(x, t)`` of the Allen–Cahn problem (see the module docstring).

    Parameters
    ----------
    x, t : array-like or torch.Tensor
        Space and time coordinates, broadcastable against each other, e.g. both of shape ``(n,)``, or ``x`` of
        shape ``(1, nx)`` and ``t`` of shape ``(nt, 1)``. Converted to float64 numpy (tensors are detached and moved
        to the CPU). ``x`` must be finite and may be anywhere (the solution is 2-periodic in ``x``); ``t`` must be
        in ``[0, 1]`` (values within ``1e-12`` outside are clipped).
    modes : int
        Number of Fourier grid points on ``[-1, 1)``, a positive even integer. With the default 2048 the solution
        is accurate to ``~ 2e-11`` for ``t >= 0.03`` (less near ``x = ±1`` at earlier times: see the module
        docstring).
    dt : float
        Step of the ETDRK4 march, in ``(0, 1]``. The default ``1e-3`` contributes ``~ 2e-11`` (fourth order).
    diffusion, reaction : float
        ``d >= 0`` and ``r >= 0`` of ``u_t = d u_xx + r (u - u^3)``. Defaults ``1e-4`` and ``5``.

    Returns
    -------
    u : np.ndarray, float64, shape ``np.broadcast_shapes(x.shape, t.shape)``
        ``u(x, t)``; exactly ``x^2 cos(pi x)`` (of the periodic extension) where ``t == 0``.

    Notes
    -----
    One call marches once to the largest requested time; each distinct requested time that is not a multiple of
    ``dt`` costs one more step. Evaluate many points in one call rather than one call per point.
    """
    modes = check_positive_int(modes, "modes")
    if modes % 2:
        raise ValueError(f"modes must be a positive even integer; got {modes}")
    dt = check_in_interval(dt, "dt", 0.0, T_END, low_open=True)
    diffusion = check_non_negative_float(diffusion, "diffusion")
    reaction = check_non_negative_float(reaction, "reaction")
    x_arr = _as_float64(x)
    t_arr = _as_float64(t)
    if not np.all(np.isfinite(x_arr)):
        raise ValueError("x must be finite")
    if not np.all(np.isfinite(t_arr)):
        raise ValueError("t must be finite")
    if t_arr.size and (t_arr.min() < -_T_ROUNDING or t_arr.max() > T_END + _T_ROUNDING):
        raise ValueError(f"t must be in [0, {T_END}], got values in [{t_arr.min()}, {t_arr.max()}]")
    try:
        x_arr, t_arr = np.broadcast_arrays(x_arr, t_arr)
    except ValueError:
        raise ValueError(f"x and t must be broadcastable, got shapes {x_arr.shape} and {t_arr.shape}") from None
    shape = x_arr.shape
    xf = x_arr.ravel()
    tf = np.clip(t_arr.ravel(), 0.0, T_END)
    u = np.empty(xf.shape, dtype=np.float64)

    initial = tf == 0
    u[initial] = _initial_condition(xf[initial])

    idx = np.flatnonzero(~initial)
    if idx.size:
        times, time_index = np.unique(tf[idx], return_inverse=True)
        time_index = time_index.reshape(-1)
        order = np.argsort(time_index, kind="stable")
        sorted_index = time_index[order]
        v0 = _initial_coefficients(modes)
        for block, v in _march(v0, times, dt=dt, diffusion=diffusion, reaction=reaction):
            lo, hi = np.searchsorted(sorted_index, [block.start, block.stop])
            points = idx[order[lo:hi]]
            u[points] = _evaluate(v, sorted_index[lo:hi] - block.start, xf[points])
        if not np.all(np.isfinite(u[idx])):
            raise FloatingPointError(f"the ETDRK4 march diverged with dt = {dt}, modes = {modes}: reduce dt")
    return u.reshape(shape)


def allen_cahn_grid(
    nx: int = 512, nt: int = 201, *, modes: int = MODES_DEFAULT, dt: float = DT_DEFAULT
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference solution on a uniform grid of ``[-1, 1] x [0, 1]``, for examples and plots.

    Parameters
    ----------
    nx, nt : int
        Number of points in ``x`` and ``t``, positive.
    modes, dt : int, float
        Passed to :func:`allen_cahn_solution`.

    Returns
    -------
    x : np.ndarray, shape ``(nx,)``
        ``linspace(-1, 1, nx)``, both ends included (``u`` is periodic: its first and last columns are equal).
    t : np.ndarray, shape ``(nt,)``
        ``linspace(0, 1, nt)`` (step ``0.005`` for the default ``nt = 201``, a multiple of the default ``dt``).
    u : np.ndarray, shape ``(nt, nx)``
        ``u[i, j] = u(x_j, t_i)`` with the default ``diffusion`` and ``reaction``.
    """
    nx = check_positive_int(nx, "nx")
    nt = check_positive_int(nt, "nt")
    x = np.linspace(-1.0, 1.0, nx)
    t = np.linspace(0.0, T_END, nt)
    u = allen_cahn_solution(x[None, :], t[:, None], modes=modes, dt=dt)
    return x, t, u
