r"""
Physics-informed DeepONet
=========================

A PINN solves one problem. An *operator network* learns the map from an input function to the solution, for
a whole family of problems at once. A DeepONet (Lu et al. 2021) writes the solution for an input :math:`v` as

.. math::

    u(v)(x) = \sum_{k=1}^p b_k\bigl(v(s_1), \dots, v(s_m)\bigr)\, \tau_k(x) + b_0,

with a *branch* network :math:`b` reading :math:`v` at :math:`m` fixed sensors :math:`s_i` and a *trunk*
network :math:`\tau` of the coordinates. *Physics-informed* training (Wang, Wang & Perdikaris 2021) needs no
solved examples: the loss is the PDE residual for every input function of a batch.

Here the antiderivative operator: :math:`u'(x) = v(x)` on :math:`[0, 1]`, :math:`u(0) = 0`, for inputs drawn
from a Gaussian random field. The derivatives for all functions of a batch come from zero coordinate shift
(ZCS: one scalar shift per coordinate, one graph for all of them).
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import pinnkit as pk

torch.set_num_threads(1)
torch.manual_seed(0)
start = time.perf_counter()
SENSORS = 40

domain = pk.geometry.Interval(0, 1)
space = pk.functions.GaussianRandomField(0.5, method="spectral")
problem = pk.OperatorProblem(domain, lambda f: f.u_x - f.v, space, np.linspace(0, 1, SENSORS),
                             conditions=[pk.DirichletBC("left", 0.0, n=1)])
net = pk.nets.DeepONet([SENSORS, 40, 40], [1, 40, 40], trunk_bounds=domain.bbox)
trainer = pk.OperatorTrainer(problem, net, functions=500, batch_size=50, lr=2e-3,
                             sampler=pk.sampling.FixedPoints(64, "sobol"))
trainer.fit(2500, progress=False, log_every=50)

# %%
# Test on functions the network has never seen, against the antiderivative by the trapezoidal rule on a fine
# grid. ``space.sample(M, seed)`` draws the features of M functions; ``trainer.predict`` returns (M, N, k).

features = space.sample(100, seed=12345)
x = np.linspace(0, 1, 201)
fine = np.linspace(0, 1, 20001)
values = space.evaluate(features, fine).numpy()                                  # (M, 20001)
steps = (values[:, 1:] + values[:, :-1]) / 2 * np.diff(fine)
integral = np.concatenate([np.zeros((len(values), 1)), np.cumsum(steps, axis=1)], axis=1)
u_ref = np.stack([np.interp(x, fine, row) for row in integral])                  # (M, 201)
u_pred = trainer.predict(features, x[:, None])[..., 0]                           # (M, 201)
errors = np.linalg.norm(u_pred - u_ref, axis=1) / np.linalg.norm(u_ref, axis=1)
print(f"{trainer.step} Adam steps; relative L2 error over 100 test functions: mean {errors.mean():.2e}, "
      f"median {np.median(errors):.2e}, max {errors.max():.2e}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for k, color in zip(range(3), ("C0", "C1", "C2"), strict=True):
    ax1.plot(x, space.evaluate(features[k:k + 1], x).numpy()[0], color=color, lw=0.8, ls=":")
    ax1.plot(x, u_ref[k], color=color, lw=2)
    ax1.plot(x, u_pred[k], "k--", lw=1)
ax1.set(xlabel="x", title="inputs v (dotted), exact u (solid), DeepONet (dashed)")
rows = [h for h in trainer.history if "loss" in h]
ax2.semilogy([h["step"] for h in rows], [h["loss"] for h in rows])
ax2.set(xlabel="Adam step", ylabel="loss", title="physics-informed loss (no solution data)")
plt.show()
print(f"wall time {time.perf_counter() - start:.1f} s")
