r"""
Navier–Stokes: Kovasznay flow
=============================

The steady incompressible Navier–Stokes equations in velocity–pressure form,

.. math::

    (\mathbf u \cdot \nabla)\mathbf u + \nabla p - \nu \Delta \mathbf u = 0, \qquad \nabla \cdot \mathbf u = 0,

have three unknowns :math:`(u, v, p)` and three residuals (``momentum_x``, ``momentum_y``, ``continuity``).
Kovasznay (1948) found an exact solution behind a grid of cylinders: with
:math:`\lambda = \mathrm{Re}/2 - \sqrt{\mathrm{Re}^2/4 + 4\pi^2}`,

.. math::

    u = 1 - e^{\lambda x}\cos 2\pi y, \qquad v = \frac{\lambda}{2\pi} e^{\lambda x} \sin 2\pi y, \qquad
    p = \tfrac12 (1 - e^{2\lambda x}) .

We impose the exact velocity on the boundary of :math:`[-0.5, 1] \times [-0.5, 1.5]` at
:math:`\mathrm{Re} = 20` and fix the pressure's free constant at one point (:class:`~pinnkit.PointValue`):
without it, :math:`p` is only determined up to a constant.

``examples/kovasznay.py`` trains for about five minutes to errors below 1e-3; this page trains a smaller
network for seconds, with the Taylor-mode derivative engine (one forward pass carries every derivative).
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import pinnkit as pk
from pinnkit.pde.references import KOVASZNAY_DOMAIN, kovasznay_solution

torch.set_num_threads(1)
torch.manual_seed(0)
start = time.perf_counter()
RE = 20.0


def exact(points, column):
    return kovasznay_solution(points, RE)[:, column]


domain = pk.geometry.Rectangle(*KOVASZNAY_DOMAIN)
problem = pk.Problem(domain, pk.pde.equations.navier_stokes(1 / RE), outputs=("u", "v", "p"), conditions=[
    pk.DirichletBC(None, lambda x: exact(x, 0), output="u", n=200),
    pk.DirichletBC(None, lambda x: exact(x, 1), output="v", n=200),
    pk.PointValue((1.0, 0.5), lambda x: exact(x, 2), output="p"),
])
print("loss terms:", problem.terms)

# %%
# Boundary terms weigh 10 (as in the example): with equal weights the network fits the boundary values too
# slowly.

net = pk.nets.MLP(2, 3, width=24, depth=3, input_bounds=domain.bbox)
trainer = pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(800, "sobol"), backend="taylor",
                     dtype=torch.float64, loss_weights={"dirichlet_u_boundary": 10.0, "dirichlet_v_boundary": 10.0})
trainer.fit(300, progress=False)
trainer.fit(1200, optimizer="lbfgs", progress=False)

(x0, y0), (x1, y1) = KOVASZNAY_DOMAIN
xs, ys = np.linspace(x0, x1, 76), np.linspace(y0, y1, 101)
grid = np.stack(np.meshgrid(xs, ys, indexing="ij"), -1).reshape(-1, 2)
ref = kovasznay_solution(grid, RE)
pred = trainer.predict(grid)
errors = {"u": pk.metrics.l2_relative_error(pred[:, 0], ref[:, 0]),
          "v": pk.metrics.l2_relative_error(pred[:, 1], ref[:, 1]),
          "p": pk.metrics.l2_relative_error(pred[:, 2] - pred[:, 2].mean(), ref[:, 2] - ref[:, 2].mean())}
print(f"after {trainer.step} steps: relative L2 errors " + ", ".join(f"{k} {v:.2e}" for k, v in errors.items()),
      "(p up to its mean)")

fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), layout="constrained", sharex=True, sharey=True)
for j, name in enumerate("uvp"):
    field = pred[:, j].reshape(len(xs), len(ys)).T
    im = axes[0, j].contourf(xs, ys, field, 30, cmap="viridis")
    fig.colorbar(im, ax=axes[0, j])
    axes[0, j].set(title=f"PINN {name}")
    err = np.abs(pred[:, j] - ref[:, j] - ((pred[:, j] - ref[:, j]).mean() if name == "p" else 0))
    im = axes[1, j].contourf(xs, ys, err.reshape(len(xs), len(ys)).T, 30, cmap="magma")
    fig.colorbar(im, ax=axes[1, j])
    axes[1, j].set(title=f"|error| of {name} (relative L2 {errors[name]:.1e})", xlabel="x")
axes[0, 0].streamplot(xs, ys, pred[:, 0].reshape(len(xs), len(ys)).T, pred[:, 1].reshape(len(xs), len(ys)).T,
                      color="w", density=0.8, linewidth=0.6)
for ax in axes[:, 0]:
    ax.set_ylabel("y")
plt.show()
print(f"wall time {time.perf_counter() - start:.1f} s")
