r"""
Choosing an optimizer
=====================

The same PINN trained by each of pinnkit's optimizers, from the same initial weights, with one convergence
plot. The problem is :math:`-u'' = \pi^2 \sin(\pi x)` on :math:`[-1, 1]` with :math:`u(\pm 1) = 0` in float64,
a 1 → 20 × 2 → 1 network (481 weights), so that even the dense quasi-Newton methods, which store an
:math:`n \times n` inverse Hessian, are cheap.

What the methods do:

* **Adam**: first-order steps with per-weight step sizes from running moments of the gradient.
* **MultiAdam**: Adam moments per *group* of loss terms (the PDE, the conditions), so the update is invariant
  to the scale of each group.
* **ConFIG**: per-term gradients combined into a direction along which no term's loss rises (to first order),
  then stepped by Adam.
* **SOAP**: Adam in the eigenbasis of Shampoo's Kronecker-factored preconditioner.
* **L-BFGS**: a limited-memory quasi-Newton method with a line search, torch's implementation.
* **BFGS, SSBFGS, SSBroyden**: dense quasi-Newton updates of the inverse Hessian :math:`H`; the self-scaled
  variants rescale :math:`H` at each step, which keeps its spectrum matched to the loss's curvature, and
  reach losses first-order methods never see on small networks.

The quasi-Newton methods start from 300 Adam steps, as one uses them in practice.
"""

import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import pinnkit as pk

torch.set_num_threads(1)
start = time.perf_counter()
domain = pk.geometry.Interval(-1, 1)
problem = pk.Problem(domain, lambda f: -f.u_xx - math.pi**2 * torch.sin(math.pi * f.x),
                     conditions=[pk.DirichletBC()])
x = np.linspace(-1, 1, 101)[:, None]
reference = (x, np.sin(np.pi * x))
torch.manual_seed(0)
initial = pk.nets.MLP(1, 1, width=20, depth=2).double().state_dict()


def trainer_for(optimizer="adam", lr=None):
    """A trainer from the shared initial weights. A multi-loss optimizer given as a spec
    (``pk.optim.MultiAdam(lr=...)``) carries its own learning rate, so ``lr`` stays unset beside it (the
    trainer refuses both)."""
    net = pk.nets.MLP(1, 1, width=20, depth=2).double()
    net.load_state_dict(initial)
    return pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(64, "hammersley"), dtype=torch.float64,
                      optimizer=optimizer, lr=lr, reference=reference)


def curve(trainer):
    rows = [h for h in trainer.history if "l2_relative_error" in h]
    return [h["step"] for h in rows], [h["l2_relative_error"] for h in rows]


STEPS, WARM = 1000, 300
runs = {}
for name, optimizer, lr in (("Adam", "adam", 1e-3), ("MultiAdam", pk.optim.MultiAdam(lr=1e-2), None),
                            ("ConFIG", pk.optim.ConFIG("adam", lr=1e-3), None), ("SOAP", "soap", 3e-3)):
    t0 = time.perf_counter()
    trainer = trainer_for(optimizer, lr)
    trainer.fit(STEPS, progress=False, log_every=25)
    runs[name] = (trainer, time.perf_counter() - t0)
for name in ("lbfgs", "bfgs", "ssbfgs", "ssbroyden"):
    t0 = time.perf_counter()
    trainer = trainer_for()
    trainer.fit(WARM, progress=False, log_every=25)
    trainer.fit(STEPS - WARM, optimizer=name, progress=False, log_every=25)
    runs[f"Adam + {name}"] = (trainer, time.perf_counter() - t0)

# %%
# The error against :math:`\sin(\pi x)` at 101 points, as the history recorded it every 25 steps (for the
# quasi-Newton methods a step is one iteration, with its line search):

fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
for name, (trainer, wall) in runs.items():
    steps, errors = curve(trainer)
    ax.semilogy(steps, errors, "--" if "+" in name else "-", label=name)
    final = trainer.history[-1].get("l2_relative_error", errors[-1])
    reason = f", stopped: {trainer.stop_reason}" if trainer.stop_reason else ""
    print(f"{name:>17}: relative L2 error {final:.2e} after {trainer.step} steps, {wall:.1f} s{reason}")
ax.set(xlabel="step (Adam) / iteration (quasi-Newton)", ylabel="relative L2 error",
       title="one problem, eight optimizers")
ax.legend(fontsize=8, ncol=2)
plt.show()

# %%
# On this small, well-scaled problem the second-order methods win by orders of magnitude; the multi-loss
# optimizers (MultiAdam, ConFIG) are built for problems whose loss terms differ in scale or pull against each
# other, which this one does not. MultiAdam normalises each group's step, so its learning rate is the size
# of the step itself: at 1e-3 it had barely moved after 1000 steps in a trial run, at 1e-2 it oscillates
# around the solution. The user guide's page on training and optimizers has a table of when to use
# which.
print(f"wall time {time.perf_counter() - start:.1f} s")
