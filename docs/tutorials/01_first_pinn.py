r"""
Your first PINN: Poisson in 1-D, by hand and with pinnkit
==========================================================

A physics-informed neural network (PINN) is a network :math:`u_\theta(x)` trained so that a differential
equation holds at a set of *collocation points*. For

.. math::

    -u''(x) = \pi^2 \sin(\pi x) \quad (x \in (-1, 1)), \qquad u(-1) = u(1) = 0,

whose solution is :math:`u = \sin(\pi x)`, the loss is the mean square of the residual at interior points
:math:`x_i` plus the mean square of the boundary values:

.. math::

    L(\theta) = \frac1N \sum_{i=1}^N \bigl(-u_\theta''(x_i) - \pi^2 \sin(\pi x_i)\bigr)^2
              + \frac12 \sum_{b = \pm 1} u_\theta(b)^2 .

We write this loss first in plain PyTorch, then with pinnkit, check that the two agree to round-off at the
same weights, and train.
"""

import math
import time

import matplotlib.pyplot as plt
import torch

import pinnkit as pk

torch.set_num_threads(1)
torch.manual_seed(0)
start = time.perf_counter()

# %%
# Plain PyTorch
# -------------
# The second derivative comes from two reverse-mode passes, ``create_graph=True`` so that the loss can be
# differentiated once more with respect to the weights.

net = pk.nets.MLP(1, 1, width=20, depth=2).double()          # any nn.Module mapping (N, 1) -> (N, 1)
x_pde = torch.linspace(-1, 1, 34, dtype=torch.float64)[1:-1, None]    # 32 interior points (N, 1)
x_bc = torch.tensor([[-1.0], [1.0]], dtype=torch.float64)


def plain_loss(net):
    x = x_pde.clone().requires_grad_(True)
    u = net(x)
    u_x = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
    u_xx = torch.autograd.grad(u_x.sum(), x, create_graph=True)[0]
    residual = -u_xx - math.pi**2 * torch.sin(math.pi * x)
    return (residual**2).mean() + (net(x_bc) ** 2).mean()


# %%
# pinnkit
# -------
# The same problem: a domain, a residual written with derivatives by name (``f.u_xx``), a Dirichlet condition
# (on an interval its points are the two ends), and the same collocation points through
# :class:`~pinnkit.sampling.GivenPoints`.

domain = pk.geometry.Interval(-1, 1)
problem = pk.Problem(domain, lambda f: -f.u_xx - math.pi**2 * torch.sin(math.pi * f.x),
                     conditions=[pk.DirichletBC(value=0.0)])
trainer = pk.Trainer(problem, net, sampler=pk.sampling.GivenPoints(x_pde), dtype=torch.float64, lr=1e-2)

total, terms, _ = trainer.losses()
by_hand = plain_loss(trainer.net).detach()
total = total.detach()
print("loss terms:", {k: f"{float(v.detach()):.6e}" for k, v in terms.items()})
print(f"pinnkit {float(total):.17e}\nby hand {float(by_hand):.17e}\n"
      f"difference {abs(float(total - by_hand)):.1e}")
assert abs(float(total - by_hand)) <= 1e-13 * float(by_hand)

# %%
# Training
# --------
# The same Adam steps on both copies of the network, from the same initial weights. The two curves lie on top of
# each other for the first ~700 steps. The summation orders differ, and Adam at this learning rate has loss
# spikes that amplify differences of round-off size, so the later spikes come at slightly different steps
# (both runs keep falling).
# Then L-BFGS refines the pinnkit one.

import copy  # noqa: E402

hand_net = copy.deepcopy(trainer.net)
opt = torch.optim.Adam(hand_net.parameters(), lr=1e-2)
hand_curve = []
for _ in range(1000):
    opt.zero_grad()
    loss = plain_loss(hand_net)
    loss.backward()
    opt.step()
    hand_curve.append(float(loss.detach()))

trainer.fit(1000, progress=False, log_every=1)
pk_steps = [h["step"] for h in trainer.history]
pk_curve = [h["loss"] for h in trainer.history]
trainer.fit(300, optimizer="lbfgs", progress=False)

x = torch.linspace(-1, 1, 201, dtype=torch.float64)[:, None]
u = trainer.predict(x)[:, 0]
exact = torch.sin(math.pi * x[:, 0]).numpy()
error = pk.metrics.l2_relative_error(u, exact)
print(f"losses after 1000 Adam steps: by hand {hand_curve[-1]:.3e}, pinnkit {pk_curve[-1]:.3e}")
print(f"relative L2 error after Adam + L-BFGS: {error:.2e}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
ax1.semilogy(range(1, 1001), hand_curve, label="plain torch")
ax1.semilogy(pk_steps, pk_curve, "--", label="pinnkit")
ax1.set(xlabel="Adam step", ylabel="loss", title="the same loss, the same steps")
ax1.legend()
ax2.plot(x[:, 0], exact, "k", lw=2, label="exact")
ax2.plot(x[:, 0], u, "C1--", label=f"PINN (error {error:.1e})")
ax2.plot(x_pde[:, 0], 0 * x_pde[:, 0], "|", color="0.5", label="collocation points")
ax2.set(xlabel="x", ylabel="u")
ax2.legend()
plt.show()
print(f"wall time {time.perf_counter() - start:.1f} s")
