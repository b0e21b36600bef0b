r"""Exact solution of the viscous Burgers equation of Raissi et al. (2019), by Cole–Hopf and Gauss–Hermite.

Problem
-------
.. math::

    u_t + u\,u_x = \nu\,u_{xx}, \qquad x \in [-1, 1],\ t \in [0, 1],

    u(x, 0) = -\sin(\pi x), \qquad u(\pm 1, t) = 0, \qquad \nu = 0.01 / \pi .

The solution steepens into a near-shock at ``x = 0`` from about ``t = 1/pi`` on (front width ~ ``nu``).

Cole–Hopf transformation
------------------------
With ``u = -2 nu phi_x / phi`` the equation becomes the heat equation ``phi_t = nu phi_xx``, whose solution on
the whole line (the initial data are 2-periodic and odd, so the boundary conditions hold automatically) gives

.. math::

    u(x, t) = -\frac{\int \sin(\pi (x - \eta))\, f(x - \eta)\, e^{-\eta^2 / (4 \nu t)}\, d\eta}
                     {\int f(x - \eta)\, e^{-\eta^2 / (4 \nu t)}\, d\eta},
    \qquad f(y) = \exp\!\Big(-\frac{\cos(\pi y)}{2 \pi \nu}\Big).

Quadrature
----------
Substituting ``eta = sqrt(4 nu t) s`` turns both integrals into ``int g(s) exp(-s^2) ds``, evaluated with the
``n_nodes``-point Gauss–Hermite rule ``(s_k, w_k)`` of :func:`numpy.polynomial.hermite.hermgauss` (the common
factor ``sqrt(4 nu t)`` cancels in the ratio). With ``y_k = x - sqrt(4 nu t) s_k``,

.. math::

    u(x, t) \approx -\sum_k \sin(\pi y_k)\, p_k, \qquad
    p_k = \frac{\exp(a_k - \max_j a_j)}{\sum_i \exp(a_i - \max_j a_j)}, \qquad
    a_k = \log w_k - \frac{\cos(\pi y_k)}{2 \pi \nu}.

The exponent ``cos(pi y) / (2 pi nu)`` reaches ``50`` for the default ``nu``, so ``f`` itself spans ``e^{±50}``;
working with log-weights and subtracting the per-point maximum (a softmax) keeps every term in ``[0, 1]`` with
no overflow and no cancellation between huge numbers. The nodes are symmetrised (``s_k = -s_{n-1-k}`` exactly)
so that ``u(±1, t)`` vanishes to rounding. At ``t = 0`` the initial condition ``-sin(pi x)`` is returned exactly.

Accuracy measured (``nu = 0.01/pi``)
------------------------------------
Against the reference data of Raissi et al. (``Burgers.npz``: 256 x 100 grid, ``x = linspace(-1, 1, 256)``,
``t = linspace(0, 0.99, 100)``), max absolute error over the grid:

===========  =========
``n_nodes``  max error
===========  =========
40           2.8e-05
50           1.8e-07
55           1.4e-08
60           9.0e-10
64           1.4e-10
>= 68        4.2e-11
===========  =========

The floor ``4.2e-11`` (at ``x = -0.0039, t = 0.66``, next to the shock) is the reference data's own error:
rules with 100, 128, 200 and 300 nodes agree with each other to ``2e-15`` on that grid and to ``1e-14`` on a
fine grid ``|x| <= 0.05``, ``t in [0.01, 1]`` across the shock. The default ``n_nodes = 100`` therefore has a
margin of about 30 nodes over the convergence point (~ 70). Smaller ``nu`` makes ``f`` sharper and needs more
nodes; check convergence in ``n_nodes`` before relying on other values. ``hermgauss`` itself breaks down
(weights underflow to zero/NaN) beyond about 360 nodes, so ``n_nodes`` is limited to ``[1, 360]``.

Cost: :func:`burgers_exact_grid` (25 600 points, 100 nodes) takes about 0.08 s (measured on this project's CPU machine).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["burgers_exact", "burgers_exact_grid"]

NU_DEFAULT = 0.01 / math.pi
N_NODES_DEFAULT = 100
_N_NODES_MAX = 360
_CHUNK_ELEMENTS = 1 << 21  # points x nodes per block: 2M float64 = 16 MiB per temporary array


def _as_float64(a: Any) -> np.ndarray:
    """numpy array or torch tensor (any device, with or without grad) or array-like -> float64 numpy array."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # torch.Tensor, without importing torch
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def _hermite_rule(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetrised Gauss–Hermite nodes and log-weights, each of shape ``(n_nodes,)``."""
    s, w = np.polynomial.hermite.hermgauss(n_nodes)
    s = 0.5 * (s - s[::-1])
    w = 0.5 * (w + w[::-1])
    if not (np.all(np.isfinite(w)) and np.all(w > 0)):
        raise ValueError(f"hermgauss({n_nodes}) gave non-positive or non-finite weights")
    log_w = np.log(w)
    return s, log_w


def burgers_exact(x: Any, t: Any, nu: float = NU_DEFAULT, n_nodes: int = N_NODES_DEFAULT) -> np.ndarray:
    """Exact solution ``u(x, t)`` of the viscous Burgers problem of Raissi et al. (see the module docstring).

    Parameters
    ----------
    x, t : array-like or torch.Tensor
        Space and time coordinates, broadcastable against each other, e.g. ``x`` of shape ``(n, 1)`` and ``t``
        of shape ``(1, m)``. Converted to float64 numpy (tensors are detached and moved to the CPU). ``t`` must
        be ``>= 0``; ``x`` may be anywhere (the solution is 2-periodic and odd in ``x``).
    nu : float
        Viscosity, ``> 0``. Default ``0.01 / pi``.
    n_nodes : int
        Number of Gauss–Hermite nodes, in ``[1, 360]``. The default 100 reproduces the reference data to
        ``4.2e-11`` for the default ``nu`` (converged from about 70 nodes on); smaller ``nu`` needs more.

    Returns
    -------
    u : np.ndarray, float64, shape ``np.broadcast_shapes(x.shape, t.shape)``
        ``u(x, t)``; exactly ``-sin(pi x)`` where ``t == 0``.
    """
    if not nu > 0:
        raise ValueError(f"nu must be positive, got {nu}")
    if not 1 <= int(n_nodes) <= _N_NODES_MAX:
        raise ValueError(f"n_nodes must be in [1, {_N_NODES_MAX}], got {n_nodes}")
    x_arr, t_arr = np.broadcast_arrays(_as_float64(x), _as_float64(t))
    if np.any(t_arr < 0) or not np.all(np.isfinite(t_arr)):
        raise ValueError("t must be finite and non-negative")
    shape = x_arr.shape
    xf = x_arr.ravel()
    tf = t_arr.ravel()
    u = np.empty(xf.shape, dtype=np.float64)

    initial = tf == 0
    u[initial] = -np.sin(np.pi * xf[initial])

    idx = np.flatnonzero(~initial)
    if idx.size:
        s, log_w = _hermite_rule(int(n_nodes))
        inv_two_pi_nu = 1.0 / (2.0 * np.pi * nu)
        chunk = max(1, _CHUNK_ELEMENTS // s.size)
        for start in range(0, idx.size, chunk):
            sel = idx[start : start + chunk]
            scale = np.sqrt(4.0 * nu * tf[sel])  # (p,)
            y = np.pi * (xf[sel, None] - scale[:, None] * s)  # (p, n_nodes), already times pi
            a = log_w - np.cos(y) * inv_two_pi_nu  # log of w_k f(y_k)
            a -= a.max(axis=1, keepdims=True)
            p = np.exp(a)
            u[sel] = -np.einsum("pk,pk->p", np.sin(y), p) / p.sum(axis=1)
    return u.reshape(shape)


def burgers_exact_grid(nx: int = 256, nt: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The exact solution on the grid of the reference data of Raissi et al.

    Parameters
    ----------
    nx, nt : int
        Number of points in ``x`` and ``t``. The defaults give the data file's grid.

    Returns
    -------
    x : np.ndarray, shape ``(nx,)``
        ``linspace(-1, 1, nx)``.
    t : np.ndarray, shape ``(nt,)``
        ``linspace(0, 0.99, nt)`` (step 0.01 for the default ``nt = 100``).
    u : np.ndarray, shape ``(nx, nt)``
        ``u[i, j] = u(x_i, t_j)`` with the default ``nu`` and ``n_nodes`` of :func:`burgers_exact`, the layout
        of ``usol`` in the data file.
    """
    x = np.linspace(-1.0, 1.0, nx)
    t = np.linspace(0.0, 0.99, nt)
    u = burgers_exact(x[:, None], t[None, :])
    return x, t, u
