r"""
A neural SDE: learning an Ornstein–Uhlenbeck process
====================================================

A stochastic differential equation :math:`dX = f(X)\,dt + g(X)\,dW` has a *drift* :math:`f` and a
*diffusion* :math:`g`. A neural SDE makes both networks and fits them to sample paths. For finely sampled
paths the Euler–Maruyama transition density is Gaussian,

.. math::

    X_{i+1} \mid X_i \sim \mathcal N\bigl(X_i + f(X_i)\,\Delta t,\; g(X_i)^2 \Delta t\bigr),

so the fit maximises that likelihood (:class:`~pinnkit.dynamics.SDETransitionFit`). For coarsely sampled paths
:class:`~pinnkit.dynamics.SDEMomentFit` matches means and variances instead.

The truth is the Ornstein–Uhlenbeck process :math:`dX = \theta(\mu - X)\,dt + \sigma\,dW` with
:math:`\theta = 1, \mu = 0.5, \sigma = 0.3`. After fitting we read :math:`\theta, \mu` back from the learned
drift by a linear regression and :math:`\sigma` from the learned diffusion.
"""

import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import pinnkit as pk
from pinnkit import dynamics as dyn

torch.set_num_threads(1)
start = time.perf_counter()
THETA, MU, SIGMA = 1.0, 0.5, 0.3
F64 = torch.float64

# %%
# Data: 150 exact OU paths on :math:`[0, 4]`, sampled every 0.01 from the process's Gaussian transitions,
# starting uniformly in :math:`[-0.5, 1.5]` so that the drift is seen on both sides of :math:`\mu`.

rng = np.random.default_rng(0)
dt, steps, n_paths = 0.01, 400, 150
t = torch.linspace(0, steps * dt, steps + 1, dtype=F64)
x = np.empty((steps + 1, n_paths))
x[0] = rng.uniform(-0.5, 1.5, n_paths)
decay = math.exp(-THETA * dt)
for i in range(steps):
    x[i + 1] = MU + (x[i] - MU) * decay + SIGMA * math.sqrt((1 - decay**2) / (2 * THETA)) * rng.normal(size=n_paths)
paths = torch.from_numpy(x)[:, :, None]                    # (T, B, d) = (401, 150, 1)


class Positive(nn.Module):
    """``exp(net(u))``: keeps the diffusion positive."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, u):
        return torch.exp(self.net(u))


torch.manual_seed(0)
drift = pk.nets.MLP(1, 1, width=16, depth=2, input_bounds=[[-0.5], [1.5]]).double()
diffusion = pk.nets.MLP(1, 1, width=16, depth=2, input_bounds=[[-0.5], [1.5]]).double()
sde = dyn.NeuralSDE(dyn.Autonomous(drift), dyn.Autonomous(Positive(diffusion)), dt=dt)
fit = dyn.SDETransitionFit(sde, t, paths)
fit.fit(300, lr=1e-2, progress=False)
fit.fit(60, optimizer="lbfgs", progress=False)

# %%
# Reading the parameters back: on a grid of states over the observed range, a linear regression of the
# learned drift on :math:`(1, x)` gives :math:`c_0 + c_1 x = \theta\mu - \theta x`.

lo, hi = np.quantile(x, [0.01, 0.99])
grid = torch.linspace(float(lo), float(hi), 200, dtype=F64)[:, None]
with torch.no_grad():
    f, g = sde.drift(None, grid), sde.diffusion(None, grid)
equation = dyn.SparseRegression(dyn.PolynomialLibrary(["x"], degree=1), threshold=1e-3).fit(grid, f, names=["drift"])
print(equation)
theta = -equation.coefficient("drift", "x")
mu = equation.coefficient("drift", "1") / theta
sigma = float(g.mean())
for name, value, true in (("theta", theta, THETA), ("mu", mu, MU), ("sigma", sigma, SIGMA)):
    print(f"{name} = {value:.4f} (true {true}, relative error {abs(value - true) / true:.1%})")

# %%
# A check of the whole model: paths sampled from the fitted SDE (by torchsde) against the exact mean and
# variance of the process started from the same initial states.

x0 = paths[0]
t_check = torch.linspace(0, 4, 21, dtype=F64)
with torch.no_grad():
    model_paths = sde(x0.repeat(10, 1), t_check, seed=1)[:, :, 0]        # (21, 1500)
e = np.exp(-THETA * t_check.numpy())[:, None]
means = MU + (x0[:, 0].numpy()[None] - MU) * e
mean_exact = means.mean(1)
var_exact = SIGMA**2 * (1 - e[:, 0] ** 2) / (2 * THETA) + means.var(1)
print(f"model paths: max |mean error| {np.abs(model_paths.mean(1).numpy() - mean_exact).max():.3f}, "
      f"max variance error {np.abs(model_paths.var(1).numpy() - var_exact).max() / var_exact.max():.1%} "
      "of the largest variance")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
ax1.plot(grid[:, 0], f[:, 0], label="learned drift")
ax1.plot(grid[:, 0], THETA * (MU - grid[:, 0]), "k--", label="θ (μ - x)")
ax1.plot(grid[:, 0], g[:, 0], label="learned diffusion")
ax1.axhline(SIGMA, color="0.3", ls=":", label="σ")
ax1.set(xlabel="x", title="drift and diffusion")
ax1.legend(fontsize=8)
ax2.plot(t, x[:, :15], color="0.75", lw=0.6)
ax2.plot(t_check, mean_exact, "k", lw=2, label="exact mean ± std")
ax2.plot(t_check, mean_exact + np.sqrt(var_exact), "k", lw=0.8)
ax2.plot(t_check, mean_exact - np.sqrt(var_exact), "k", lw=0.8)
ax2.plot(t_check, model_paths.mean(1), "C3o", ms=4, label="fitted SDE")
ax2.plot(t_check, model_paths.mean(1) + model_paths.std(1), "C3.", ms=4)
ax2.plot(t_check, model_paths.mean(1) - model_paths.std(1), "C3.", ms=4)
ax2.set(xlabel="t", title="data paths (grey) and moments")
ax2.legend(fontsize=8)
plt.show()
print(f"wall time {time.perf_counter() - start:.1f} s")
