r"""
An inverse problem: a trainable coefficient from noisy data
===========================================================

In an *inverse* problem the equation has unknown coefficients and we have measurements of the solution. A PINN
treats the coefficient as one more trainable parameter: the loss asks the network to fit the data *and* to
satisfy the PDE with the current coefficient, and both are minimised together.

Here the heat equation :math:`u_t = \kappa\, u_{xx}` on :math:`[0, 1] \times [0, 1]` with unknown
:math:`\kappa`; the truth is :math:`\kappa^\star = 0.3` and
:math:`u = e^{-\kappa^\star \pi^2 t} \sin(\pi x)`. We observe :math:`u` at 80 scattered points with Gaussian
noise of 2 % of its largest value, and know nothing about the boundary or initial values: the data and
the PDE have to carry everything.
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
KAPPA = 0.3


def exact(p):
    return torch.exp(-KAPPA * math.pi**2 * p[:, 1:2]) * torch.sin(math.pi * p[:, 0:1])


domain = pk.geometry.Interval(0, 1) * pk.geometry.TimeDomain(0, 1)
points = domain.sample_interior(80, "random", seed=1, dtype=torch.float64)
generator = torch.Generator().manual_seed(2)
values = exact(points) + 0.02 * torch.randn(points.shape[0], 1, generator=generator, dtype=torch.float64)

# %%
# The coefficient is declared in ``parameters`` with its initial guess and read in the residual as
# ``f.kappa``. The problem stays a fixed specification; the trainer holds the trainable value
# (``trainer.parameter_values()``) and records it in its history.

problem = pk.Problem(domain, lambda f: f.u_t - f.kappa * f.u_xx, parameters={"kappa": 0.05},
                     conditions=[pk.ObservedData(points, values)])
net = pk.nets.MLP(2, 1, width=24, depth=3, input_bounds=domain.bbox)
trainer = pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(1000, "sobol"), dtype=torch.float64,
                     lr=5e-3, loss_weights={"data": 10.0})
trainer.fit(1500, progress=False, log_every=25)
trainer.fit(500, optimizer="lbfgs", progress=False, log_every=25)

kappa = trainer.parameter_values()["kappa"]
grid = np.stack(np.meshgrid(np.linspace(0, 1, 101), np.linspace(0, 1, 101), indexing="ij"), -1).reshape(-1, 2)
u_true = exact(torch.from_numpy(grid))[:, 0].numpy()
error = pk.metrics.l2_relative_error(trainer.predict(grid)[:, 0], u_true)
print(f"kappa = {kappa:.4f} (true {KAPPA}), relative error {abs(kappa - KAPPA) / KAPPA:.2%}")
print(f"relative L2 error of u on a 101 x 101 grid: {error:.2e}")

# %%
# The learned coefficient over training (the history holds one row per logged step):

steps = [h["step"] for h in trainer.history if "kappa" in h]
kappas = [h["kappa"] for h in trainer.history if "kappa" in h]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
ax1.plot(steps, kappas, label="learned")
ax1.axhline(KAPPA, color="k", ls="--", label="true")
ax1.axvline(1500, color="0.7", lw=0.8)
ax1.text(1520, 0.1, "L-BFGS", color="0.4")
ax1.set(xlabel="step", ylabel="kappa", title="the coefficient during training")
ax1.legend()
im = ax2.scatter(points[:, 1], points[:, 0], c=values[:, 0], cmap="viridis", s=18)
ax2.set(xlabel="t", ylabel="x", title="the 80 noisy observations")
fig.colorbar(im, ax=ax2)
plt.show()
print(f"wall time {time.perf_counter() - start:.1f} s")
