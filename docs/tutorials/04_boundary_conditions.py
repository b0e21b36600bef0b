r"""
Boundary conditions: Dirichlet, Neumann, Robin, periodic and hard constraints
=============================================================================

A condition is a residual on its own set of points whose mean square joins the loss:

=====================  ==============================================================
Dirichlet              :math:`r = u - g`
Neumann                :math:`r = \partial u / \partial n - g` (outward normal :math:`n`)
Robin                  :math:`r = \alpha u + \beta\, \partial u / \partial n - g`
periodic               :math:`r = \partial^k u(x_{\min}) - \partial^k u(x_{\max})` for each order :math:`k`
=====================  ==============================================================

A *hard constraint* instead builds the condition into the network, :math:`u = g + d(x) N(x)` with
:math:`d = 0` where the condition holds, so it is satisfied exactly and the loss only contains the PDE.

We solve :math:`-u'' = \pi^2 \sin(\pi x)` on :math:`[0, 1]`, whose solutions are
:math:`u = \sin(\pi x) + a x + b`, with four sets of conditions that all select
:math:`u^\star = \sin(\pi x) + x`, then a periodic problem.
"""

import math
import time

import matplotlib.pyplot as plt
import torch

import pinnkit as pk

torch.set_num_threads(1)
start = time.perf_counter()
domain = pk.geometry.Interval(0, 1)


def poisson(f):
    return -f.u_xx - math.pi**2 * torch.sin(math.pi * f.x)


def exact(x):
    return torch.sin(math.pi * x) + x


def train(problem, net, steps=600, lbfgs=300):
    trainer = pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(64, "hammersley"), dtype=torch.float64,
                         lr=5e-3)
    trainer.fit(steps, progress=False)
    trainer.fit(lbfgs, optimizer="lbfgs", progress=False)
    return trainer


# %%
# Four ways to pin down the same solution
# ---------------------------------------
# At :math:`x = 1` the outward normal is :math:`+1`, so :math:`\partial u/\partial n = u'(1) = 1 - \pi`; with
# :math:`\alpha = \beta = 1` the Robin value is :math:`u(1) + u'(1) = 2 - \pi`. Boundary parts are chosen by
# name: on an interval ``"left"`` and ``"right"``.

conditions = {
    "Dirichlet": [pk.DirichletBC("left", 0.0), pk.DirichletBC("right", 1.0)],
    "Neumann": [pk.DirichletBC("left", 0.0), pk.NeumannBC("right", 1 - math.pi)],
    "Robin": [pk.DirichletBC("left", 0.0), pk.RobinBC("right", alpha=1.0, beta=1.0, value=2 - math.pi)],
}
x = torch.linspace(0, 1, 201, dtype=torch.float64)[:, None]
results = {}
for name, conds in conditions.items():
    torch.manual_seed(0)
    trainer = train(pk.Problem(domain, poisson, conditions=conds), pk.nets.MLP(1, 1, width=20, depth=2))
    results[name] = trainer.predict(x)[:, 0]

# %%
# The hard constraint :math:`u = x + x(1 - x) N(x)` takes both Dirichlet values exactly. The formulas are
# :class:`~pinnkit.nets.Expression` objects, so a checkpoint can rebuild the network.

torch.manual_seed(0)
hard = pk.nets.HardConstraint(pk.nets.MLP(1, 1, width=20, depth=2), pk.nets.Expression("x", ("x",)),
                              pk.nets.Expression("x*(1 - x)", ("x",)))
trainer = train(pk.Problem(domain, poisson), hard)
results["hard constraint"] = trainer.predict(x)[:, 0]

u_star = exact(x)[:, 0].numpy()
for name, u in results.items():
    print(f"{name:>16}: relative L2 error {pk.metrics.l2_relative_error(u, u_star):.2e}, "
          f"|u(0)| = {abs(u[0]):.1e}, |u(1) - 1| = {abs(u[-1] - 1):.1e}")

# %%
# Periodic conditions
# -------------------
# On :math:`[0, 2\pi]`, :math:`-u'' + u = 2 \sin x` with :math:`u` and :math:`u'` periodic
# (``orders=(0, 1)``) has the unique solution :math:`u = \sin x`; no boundary values are given at all.

torch.manual_seed(0)
ring = pk.geometry.Interval(0, 2 * math.pi)
periodic = pk.Problem(ring, lambda f: -f.u_xx + f.u - 2 * torch.sin(f.x), conditions=[
    pk.PeriodicBC("x", orders=(0, 1))])
trainer = pk.Trainer(periodic, pk.nets.MLP(1, 1, width=20, depth=2, input_bounds=ring.bbox),
                     sampler=pk.sampling.FixedPoints(64, "hammersley"), dtype=torch.float64, lr=5e-3)
trainer.fit(600, progress=False)
trainer.fit(300, optimizer="lbfgs", progress=False)
xp = torch.linspace(0, 2 * math.pi, 201, dtype=torch.float64)[:, None]
up = trainer.predict(xp)[:, 0]
periodic_error = pk.metrics.l2_relative_error(up, torch.sin(xp[:, 0]).numpy())
print(f"        periodic: relative L2 error {periodic_error:.2e}, u(2 pi) - u(0) = {up[-1] - up[0]:.1e}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for name, u in results.items():
    ax1.semilogy(x[:, 0], abs(u - u_star) + 1e-16, label=name)
ax1.set(xlabel="x", ylabel="|u - u*|", title="pointwise error, four sets of conditions")
ax1.legend(fontsize=8)
ax2.plot(xp[:, 0], torch.sin(xp[:, 0]), "k", lw=2, label="sin x")
ax2.plot(xp[:, 0], up, "C1--", label=f"periodic PINN ({periodic_error:.1e})")
ax2.set(xlabel="x", title="periodic conditions only")
ax2.legend(fontsize=8)
plt.show()
print(f"wall time {time.perf_counter() - start:.1f} s")
