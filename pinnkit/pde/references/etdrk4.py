r"""One step of the fourth-order exponential time-differencing Runge–Kutta scheme (ETDRK4) of Cox & Matthews
(2002) for ``v' = L v + N(v)`` with a diagonal linear part ``L`` (e.g. a Fourier spectral discretisation).

With ``z = h L``, a step of length ``h`` is

.. math::

    a = e^{z/2} v + \tfrac{h}{2}\varphi_1(\tfrac{z}{2}) N(v), \quad
    b = e^{z/2} v + \tfrac{h}{2}\varphi_1(\tfrac{z}{2}) N(a), \quad
    c = e^{z/2} a + \tfrac{h}{2}\varphi_1(\tfrac{z}{2}) \big(2 N(b) - N(v)\big),

    v(t + h) = e^{z} v + h\big[f_1 N(v) + 2 f_2 \big(N(a) + N(b)\big) + f_3 N(c)\big],

    f_1 = \varphi_1 - 3\varphi_2 + 4\varphi_3, \quad f_2 = \varphi_2 - 2\varphi_3, \quad
    f_3 = 4\varphi_3 - \varphi_2,

with ``phi_1(z) = (e^z - 1) / z``, ``phi_2(z) = (e^z - 1 - z) / z^2``, ``phi_3(z) = (e^z - 1 - z - z^2/2) / z^3``
evaluated without catastrophic cancellation for real ``z`` (:func:`phi123`; Kassam & Trefethen 2005 discuss the
difficulty and a contour-integral remedy).

References: S. M. Cox, P. C. Matthews, J. Comput. Phys. 176 (2002) 430–455; A.-K. Kassam, L. N. Trefethen,
SIAM J. Sci. Comput. 26 (2005) 1214–1233.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

_TAYLOR_REMAINDER = 1e-18  # truncation of the phi_3 Taylor series used for |z| < 1 (phi_3 > 0.13 there)

#: ``(e^z, e^{z/2}, h/2 phi_1(z/2), h f_1, h f_2, h f_3)``.
Coefficients = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def phi123(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``phi_1(z), phi_2(z), phi_3(z)`` of real ``z`` (any shape, each result the same shape), to a few ulp.

    For ``|z| < 1``: the Taylor series ``phi_3(z) = sum_m z^m / (m + 3)!`` (Horner, truncated where the remainder
    drops below ``1e-18``, at most 17 terms), then ``phi_2 = 1/2 + z phi_3`` and ``phi_1 = 1 + z phi_2``, which
    cancel at most a factor ~ 1.4 there. For ``|z| >= 1``: ``phi_1 = expm1(z) / z`` and the recurrence
    ``phi_{k+1} = (phi_k - 1/k!) / z``, which cancels at most a factor ~ 3 per level there.
    """
    z = np.asarray(z, dtype=np.float64)
    small = np.abs(z) < 1.0
    zs = np.where(small, z, 0.0)
    z_max = float(np.abs(zs).max(initial=0.0))
    terms = 1
    while z_max**terms / math.factorial(terms + 3) > _TAYLOR_REMAINDER:
        terms += 1
    phi3 = np.full(zs.shape, 1.0 / math.factorial(terms + 2))
    for m in range(terms - 2, -1, -1):
        phi3 *= zs
        phi3 += 1.0 / math.factorial(m + 3)
    phi2 = 0.5 + zs * phi3
    phi1 = 1.0 + zs * phi2
    if small.all():
        return phi1, phi2, phi3
    zl = np.where(small, 1.0, z)
    large1 = np.expm1(zl) / zl
    large2 = (large1 - 1.0) / zl
    large3 = (large2 - 0.5) / zl
    return np.where(small, phi1, large1), np.where(small, phi2, large2), np.where(small, phi3, large3)


def etdrk4_coefficients(lin: np.ndarray, h: float | np.ndarray) -> Coefficients:
    """ETDRK4 coefficients ``(e^z, e^{z/2}, h/2 phi_1(z/2), h f_1, h f_2, h f_3)`` with ``z = h lin``.

    ``lin`` has shape ``(K,)`` (the linear operator's eigenvalues); ``h`` is a scalar or of shape ``(c, 1)``; each
    coefficient has shape ``np.broadcast_shapes(np.shape(h), lin.shape)``.
    """
    z = h * lin
    phi1, phi2, phi3 = phi123(z)
    half_phi1 = phi123(0.5 * z)[0]
    return (
        np.exp(z),
        np.exp(0.5 * z),
        0.5 * h * half_phi1,
        h * (phi1 - 3.0 * phi2 + 4.0 * phi3),
        h * (phi2 - 2.0 * phi3),
        h * (4.0 * phi3 - phi2),
    )


def etdrk4_step(
    v: np.ndarray, coefficients: Coefficients, nonlinear: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """One ETDRK4 step (Cox & Matthews 2002) of the coefficients ``v``, shape ``(..., K)`` (broadcast)."""
    e, e_half, q, f1, f2, f3 = coefficients
    nv = nonlinear(v)
    a = e_half * v + q * nv
    na = nonlinear(a)
    b = e_half * v + q * na
    nb = nonlinear(b)
    c = e_half * a + q * (2.0 * nb - nv)
    nc = nonlinear(c)
    return e * v + f1 * nv + 2.0 * f2 * (na + nb) + f3 * nc
