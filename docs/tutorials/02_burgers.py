r"""
Burgers' equation
=================

The viscous Burgers equation is the classic PINN benchmark (Raissi, Perdikaris & Karniadakis 2019):

.. math::

    u_t + u\,u_x - \nu\,u_{xx} = 0, \quad x \in [-1, 1],\ t \in [0, 1], \qquad
    u(x, 0) = -\sin(\pi x), \quad u(\pm 1, t) = 0, \qquad \nu = 0.01/\pi .

A shock forms at :math:`x = 0` around :math:`t \approx 0.4`; its width is of order :math:`\nu`, so the network has
to resolve a steep front. This page runs the script of the landing page (the README's) and then keeps
training with L-BFGS, measuring the relative L2 error against the exact solution
(:func:`pinnkit.pde.references.burgers_exact_grid`, computed by the package from the Cole–Hopf formula).
"""

import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import pinnkit as pk

torch.set_num_threads(1)
torch.manual_seed(0)
start = time.perf_counter()

# %%
# The problem
# -----------
# A space-time domain is a spatial geometry times a :class:`~pinnkit.geometry.TimeDomain`; its coordinates are
# named ``x`` and ``t``, so the residual reads ``f.u_t``, ``f.u_x``, ``f.u_xx``. The Dirichlet condition is on
# the lateral boundary ``x = ±1``, the initial condition at ``t = 0``.

nu = 0.01 / math.pi
domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)


def burgers(f):
    return f.u_t + f.u * f.u_x - nu * f.u_xx


problem = pk.Problem(domain, burgers, outputs="u", conditions=[
    pk.DirichletBC(domain.boundary, 0.0),
    pk.InitialCondition(lambda x: -torch.sin(math.pi * x[:, :1])),
])
net = pk.nets.MLP(inputs=2, outputs=1, width=20, depth=3, input_bounds=domain.bbox)
trainer = pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(2540), dtype=torch.float64)

x, t, u_exact = pk.pde.references.burgers_exact_grid()
grid = torch.cartesian_prod(torch.from_numpy(x), torch.from_numpy(t))

# %%
# The landing page's script: 200 Adam steps, then 50 L-BFGS iterations
# ---------------------------------------------------------------------

trainer.fit(200, progress=False)
trainer.fit(50, optimizer="lbfgs", progress=False)
error_short = pk.metrics.l2_relative_error(trainer.predict(grid)[:, 0], u_exact.reshape(-1))
print(f"after 200 Adam + 50 L-BFGS: relative L2 error {error_short:.3e}")

# %%
# More L-BFGS
# -----------
# L-BFGS does most of the work on this problem. ``trainer.stop_reason`` says why a quasi-Newton run ended
# early (a tolerance reached, or the iteration budget spent).

trainer.fit(700, optimizer="lbfgs", progress=False)
u_pred = trainer.predict(grid)[:, 0].reshape(u_exact.shape)
error = pk.metrics.l2_relative_error(u_pred, u_exact)
print(f"after {trainer.step} steps in all: relative L2 error {error:.3e}")
if trainer.stop_reason:
    print("L-BFGS stopped early:", trainer.stop_reason)

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
extent = [t[0], t[-1], x[0], x[-1]]
for ax, field, title in zip(axes[:2], (u_exact, u_pred), ("exact", f"PINN, error {error:.1e}"), strict=True):
    im = ax.imshow(field, origin="lower", aspect="auto", extent=extent, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set(xlabel="t", ylabel="x", title=title)
fig.colorbar(im, ax=axes[1])
for ti in (0.25, 0.5, 0.75):
    j = int(np.argmin(np.abs(t - ti)))
    axes[2].plot(x, u_exact[:, j], "k", lw=2)
    axes[2].plot(x, u_pred[:, j], "--", label=f"t = {t[j]:.2f}")
axes[2].set(xlabel="x", ylabel="u", title="slices (black: exact)")
axes[2].legend()
plt.show()
print(f"wall time {time.perf_counter() - start:.1f} s")
