r"""
Geometries, CSG and sampling methods
====================================

Every PINN needs points: collocation points in the interior, where the residual is evaluated, and points on
the boundary for the conditions. :mod:`pinnkit.geometry` builds domains from primitives (intervals, rectangles,
disks, ellipses, polygons, cuboids, spheres, hypercubes, ...) combined by constructive solid geometry (CSG):
``|`` union, ``&`` intersection, ``-`` difference, and ``* TimeDomain(t0, t1)`` for space-time.

This tutorial pictures the six sampling methods, a CSG domain with its boundary normals and its smooth
approximate distance function, and measures how well quasi-random points estimate an area.
"""

import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import pinnkit as pk

G = pk.geometry
torch.set_num_threads(1)
start = time.perf_counter()

# %%
# Six ways to fill a square
# -------------------------
# ``"uniform"`` is a cell-centred grid, ``"random"`` independent uniform draws, ``"lhs"`` Latin hypercube
# sampling, ``"sobol"`` and ``"halton"`` scrambled low-discrepancy sequences, and ``"hammersley"`` a
# deterministic low-discrepancy set. Every method returns exactly ``n`` distinct points of shape ``(n, d)``;
# ``seed`` makes the random ones reproducible.

square = G.Rectangle([0, 0], [1, 1])
fig, axes = plt.subplots(1, 6, figsize=(15, 2.8), layout="constrained")
for ax, method in zip(axes, G.METHODS, strict=True):
    p = square.sample_interior(200, method, seed=0)
    ax.plot(p[:, 0], p[:, 1], ".", ms=3)
    ax.set(title=method, xticks=[], yticks=[], aspect="equal")
plt.show()

# %%
# Low-discrepancy points integrate better. The area of a disk estimated as the fraction of points of the unit
# square that fall inside it, for each method, against the exact :math:`\pi r^2`:

disk = G.Disk([0.5, 0.5], 0.4)
exact_area = math.pi * 0.4**2
print("area error of a disk of radius 0.4 from 4096 points of the unit square:")
for method in G.METHODS:
    p = square.sample_interior(4096, method, seed=1, dtype=torch.float64)
    estimate = float(disk.inside(p).double().mean())
    print(f"  {method:>10}: {abs(estimate - exact_area) / exact_area:.2e}")

# %%
# Constructive solid geometry
# ---------------------------
# A plate: a polygon minus a disk, union a small rectangle tab. Boundary points are spread uniformly by length
# over every piece of the boundary that survives the operations, and ``boundary_normal`` gives the unit
# outward normal there (at corners, the normalised sum of the pieces' normals).

plate = (G.Polygon([[0, 0], [2, 0], [2, 1], [1, 0.4], [0, 1]]) - G.Disk([0.5, 0.35], 0.15)) \
    | G.Rectangle([1.9, 0.2], [2.3, 0.5])
inner = plate.sample_interior(1500, "sobol", seed=0)
edge = plate.sample_boundary(300, "hammersley")
normal = plate.boundary_normal(edge)
print(f"normals: max | |n| - 1 | = {float((normal.norm(dim=1) - 1).abs().max()):.1e} over {len(edge)} points")
# exact area: the polygon (shoelace formula: 1.4) minus the hole plus the part of the tab outside the polygon
plate_area = 1.4 - math.pi * 0.15**2 + (2.3 - 2.0) * (0.5 - 0.2)
estimate = plate.estimate_measure()
print(f"area: quasi-Monte Carlo estimate {estimate:.5f}, exact {plate_area:.5f}, "
      f"relative error {abs(estimate - plate_area) / plate_area:.1e}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
ax1.plot(inner[:, 0], inner[:, 1], ".", ms=2, color="0.6", label="interior (sobol)")
ax1.quiver(edge[::3, 0], edge[::3, 1], normal[::3, 0], normal[::3, 1], color="C3", scale=25, width=0.003)
ax1.plot(edge[:, 0], edge[:, 1], ".", ms=3, color="C0", label="boundary (hammersley)")
ax1.set(aspect="equal", title="a CSG plate, its points and outward normals")
ax1.legend(loc="upper center", fontsize=8)

# %%
# Distance functions
# ------------------
# ``signed_distance`` is exact for primitives (negative inside) and a min/max composition for CSG;
# ``approx_distance`` is smooth (R-functions), positive inside, zero on the boundary. The smooth one is what a
# hard constraint ``u = g + d(x) N(x)`` uses (see the boundary-condition tutorial).

xs, ys = np.meshgrid(np.linspace(-0.05, 2.35, 240), np.linspace(-0.05, 1.05, 120))
grid = torch.tensor(np.stack([xs.ravel(), ys.ravel()], 1))
d = plate.approx_distance(grid).reshape(xs.shape).numpy()
inside = plate.inside(grid).reshape(xs.shape).numpy()
im = ax2.contourf(xs, ys, np.where(inside, d, np.nan), 20, cmap="viridis")
ax2.contour(xs, ys, d, [0.0], colors="k", linewidths=1)
fig.colorbar(im, ax=ax2)
ax2.set(aspect="equal", title="approx_distance inside the plate")
plt.show()
print(f"approx_distance on the boundary points: max |d| = {float(plate.approx_distance(edge).abs().max()):.1e}")

# %%
# Space-time domains and periodic pairs
# -------------------------------------
# ``Interval(-1, 1) * TimeDomain(0, 1)`` has coordinates ``("x", "t")``. Its *boundary* is the lateral one,
# ``x = ±1``; the initial slice ``t = 0`` has its own sampler, and periodic conditions use matched pairs of
# points on opposite faces.

domain = G.Interval(-1, 1) * G.TimeDomain(0, 1)
xt = domain.sample_interior(400, "lhs", seed=1)
x0 = domain.sample_initial(40)
xb = domain.sample_boundary(60)
lo, hi = domain.sample_periodic_pairs(20, "x")
print(domain.names, "pairs share their times:", bool(torch.equal(lo[:, 1], hi[:, 1])))
fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
ax.plot(xt[:, 0], xt[:, 1], ".", ms=2, color="0.6", label="interior (lhs)")
ax.plot(x0[:, 0], x0[:, 1], "^", ms=4, label="initial")
ax.plot(xb[:, 0], xb[:, 1], "s", ms=3, label="boundary")
ax.set(xlabel="x", ylabel="t", title="points of a space-time domain")
ax.legend(fontsize=8, loc="upper center")
plt.show()
print(f"wall time {time.perf_counter() - start:.1f} s")
