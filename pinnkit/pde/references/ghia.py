"""Ghia, Ghia & Shin's centreline velocities of the lid-driven cavity, and a solution's deviation from them.

U. Ghia, K. N. Ghia, C. T. Shin, "High-Re solutions for incompressible flow using the Navier-Stokes equations
and a multigrid method", J. Comput. Phys. 48 (1982) 387-411: Table I (``u`` on the vertical centreline
``x = 0.5``) and Table II (``v`` on the horizontal centreline ``y = 0.5``), the Re = 100 and Re = 1000 columns,
at their 15 interior stations (the walls' values, 0 and the lid's 1, are left out). The stations are nodes
``k / 128`` of their 129 x 129 grid, printed to four decimals.

The table is a discrete solution itself, and at Re = 100 not an accurate one: the project's stream
function-vorticity solution (:func:`~pinnkit.pde.references.lid_driven_cavity`), Richardson-extrapolated from 129
and 257 nodes, gives the centreline extrema of Marchi, Suero & Araki's 1024 x 1024 solution (J. Braz. Soc. Mech.
Sci. Eng. 31, 2009) to 2e-6, and differs from Ghia's table at its stations by up to ``4.9e-3`` in ``u`` and
``9.3e-3`` in ``v`` (``4.2e-3`` and ``8.4e-3`` on 129 nodes). A deviation from Ghia below that level therefore
does not mean a more accurate solution; the exact flow's own deviation is that level. At Re = 1000 the
Richardson limit of 257 and 513 nodes (Botella & Peyret's spectral extrema to 8e-6) is ``6.4e-3`` (u) and
``1.8e-2`` (v) from Ghia's table.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# station (Table I: y; Table II: x) -> value, interior stations only
_U = {
    100: {0.9766: 0.84123, 0.9688: 0.78871, 0.9609: 0.73722, 0.9531: 0.68717, 0.8516: 0.23151, 0.7344: 0.00332,
          0.6172: -0.13641, 0.5000: -0.20581, 0.4531: -0.21090, 0.2813: -0.15662, 0.1719: -0.10150,
          0.1016: -0.06434, 0.0703: -0.04775, 0.0625: -0.04192, 0.0547: -0.03717},
    1000: {0.9766: 0.65928, 0.9688: 0.57492, 0.9609: 0.51117, 0.9531: 0.46604, 0.8516: 0.33304, 0.7344: 0.18719,
           0.6172: 0.05702, 0.5000: -0.06080, 0.4531: -0.10648, 0.2813: -0.27805, 0.1719: -0.38289,
           0.1016: -0.29730, 0.0703: -0.22220, 0.0625: -0.20196, 0.0547: -0.18109},
}
_V = {
    100: {0.9688: -0.05906, 0.9609: -0.07391, 0.9531: -0.08864, 0.9453: -0.10313, 0.9063: -0.16914,
          0.8594: -0.22445, 0.8047: -0.24533, 0.5000: 0.05454, 0.2344: 0.17527, 0.2266: 0.17507, 0.1563: 0.16077,
          0.0938: 0.12317, 0.0781: 0.10890, 0.0703: 0.10091, 0.0625: 0.09233},
    1000: {0.9688: -0.21388, 0.9609: -0.27669, 0.9531: -0.33714, 0.9453: -0.39188, 0.9063: -0.51550,
           0.8594: -0.42665, 0.8047: -0.31966, 0.5000: 0.02526, 0.2344: 0.32235, 0.2266: 0.33075, 0.1563: 0.37095,
           0.0938: 0.32627, 0.0781: 0.30353, 0.0703: 0.29012, 0.0625: 0.27485},
}
#: The Reynolds numbers whose columns are here.
GHIA_REYNOLDS = tuple(sorted(_U))


def _column(table: dict[int, dict[float, float]], reynolds: float) -> tuple[np.ndarray, np.ndarray]:
    if reynolds not in table:
        raise ValueError(f"reynolds: Ghia et al.'s columns here are Re = {list(GHIA_REYNOLDS)}; got {reynolds!r}")
    stations = np.array(sorted(table[reynolds]))
    # the printed stations are k/128 rounded to four decimals: snap them back onto the grid
    stations_exact = np.round(stations * 128) / 128
    return stations_exact, np.array([table[reynolds][s] for s in stations])


def ghia_centerlines(reynolds: float = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ghia et al.'s interior stations and values: ``(y, u(0.5, y), x, v(x, 0.5))``, each (15,), ascending."""
    y, u = _column(_U, reynolds)
    x, v = _column(_V, reynolds)
    return y, u, x, v


def ghia_deviation(velocity: Callable[[np.ndarray], np.ndarray], reynolds: float = 100) -> dict[str, float]:
    """Max ``|u - u_Ghia|`` on ``x = 0.5`` and ``|v - v_Ghia|`` on ``y = 0.5`` at Ghia et al.'s stations.

    ``velocity`` maps points (m, 2) to at least the columns ``(u, v)`` (m, >= 2), e.g. a trainer's ``predict``
    or a :class:`~pinnkit.pde.references.CavityFlow`. Returns ``{"u": ..., "v": ...}``.
    """
    y, u, x, v = ghia_centerlines(reynolds)
    on_u = np.asarray(velocity(np.stack([np.full_like(y, 0.5), y], axis=1)))
    on_v = np.asarray(velocity(np.stack([x, np.full_like(x, 0.5)], axis=1)))
    for values, points in ((on_u, y), (on_v, x)):
        if values.ndim != 2 or values.shape[0] != len(points) or values.shape[1] < 2:
            raise ValueError(f"velocity: expected (m, >= 2) values, the columns (u, v, ...), for the {len(points)} "
                             f"points (m, 2) it is given; got shape {values.shape}")
    return {"u": float(np.abs(on_u[:, 0] - u).max()), "v": float(np.abs(on_v[:, 1] - v).max())}
