r"""
Failure modes: convection at β = 50
===================================

Not every PINN trains. The convection equation

.. math::

    u_t + \beta u_x = 0, \quad x \in [0, 2\pi) \text{ periodic}, \ t \in [0, 1], \qquad u(x, 0) = \sin x,

has the simple exact solution :math:`u = \sin(x - \beta t)`, but at :math:`\beta = 50` it turns over eight times
in time, and a plain PINN trained on the whole space-time domain settles on a smooth *wrong* solution
(Krishnapriyan et al. 2021). The residual is small there too: :math:`u \approx` const satisfies the PDE, and
nothing forces the network to carry the initial condition forward before it fits later times. Training is
the problem, not the equation.

Two remedies, each one argument away:

* **time marching** (:class:`~pinnkit.TimeMarching`): split :math:`[0, 1]` into windows, train them in order,
  each starting from the previous window's prediction as its initial condition; every window is an easy
  problem.
* **causal weighting** (:class:`~pinnkit.weighting.CausalWeighting`): the same effect inside one training
  run, by weighting later times only once earlier ones are resolved (this one needs long runs at
  :math:`\beta = 50`; ``examples/convection.py`` compares the samplers at full length).
"""

import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import pinnkit as pk

torch.set_num_threads(1)
start = time.perf_counter()
BETA = 50.0
domain = pk.geometry.Interval(0, 2 * math.pi) * pk.geometry.TimeDomain(0, 1)
problem = pk.Problem(domain, pk.pde.equations.convection(BETA), conditions=[
    pk.InitialCondition(lambda x: torch.sin(x[:, :1]), n=256), pk.PeriodicBC("x", n=128)])
xs, ts = np.linspace(0, 2 * math.pi, 128), np.linspace(0, 1, 100)
grid = np.stack(np.meshgrid(xs, ts, indexing="ij"), -1).reshape(-1, 2)
u_ref = np.sin(grid[:, 0] - BETA * grid[:, 1]).reshape(len(xs), len(ts))


def adam_then_lbfgs(trainer, adam, lbfgs):
    trainer.fit(adam, progress=False)
    trainer.fit(lbfgs, optimizer="lbfgs", progress=False)


# %%
# The plain PINN
# --------------
# One network on the whole domain, 1000 Sobol points, Adam then L-BFGS.

torch.manual_seed(0)
net = pk.nets.MLP(2, 1, width=32, depth=3, input_bounds=domain.bbox)
plain = pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(1000, "sobol"))
adam_then_lbfgs(plain, 600, 400)
u_plain = plain.predict(grid)[:, 0].reshape(u_ref.shape)
error_plain = pk.metrics.l2_relative_error(u_plain, u_ref)
print(f"plain PINN: relative L2 error {error_plain:.2e} after {plain.step} steps, final loss "
      f"{plain.current_loss():.2e}")

# %%
# The loss is small while the error is of order one: a low loss does not certify a solution. The residual of
# the wrong answer is small everywhere except near :math:`t = 0`.
#
# Time marching
# -------------
# Ten windows of length 0.1, each trained by 150 Adam steps (learning rate 3e-3) and 250 L-BFGS iterations on
# 500 R3 points: more steps in all than the plain run, but each window only has to move the wave a little.

torch.manual_seed(0)
net = pk.nets.MLP(2, 1, width=32, depth=3, input_bounds=domain.bbox)
marching = pk.TimeMarching(problem, net, 10, sampler=pk.sampling.R3(500), lr=3e-3)
marching.fit(lambda trainer: adam_then_lbfgs(trainer, 150, 250))
u_march = marching.predict(grid)[:, 0].reshape(u_ref.shape)
error_march = pk.metrics.l2_relative_error(u_march, u_ref)
steps = sum(tr.step for tr in marching.trainers)
print(f"time marching: relative L2 error {error_march:.2e} after {steps} steps over 10 windows")

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained", sharey=True)
for ax, field, title in zip(axes, (u_ref, u_plain, u_march),
                            ("exact", f"plain PINN ({error_plain:.1e})", f"time marching ({error_march:.1e})"),
                            strict=True):
    im = ax.imshow(field, origin="lower", aspect="auto", extent=[0, 1, 0, 2 * math.pi], cmap="RdBu_r",
                   vmin=-1, vmax=1)
    ax.set(xlabel="t", title=title)
axes[0].set_ylabel("x")
fig.colorbar(im, ax=axes[2])
plt.show()
print(f"wall time {time.perf_counter() - start:.1f} s")
