r"""
Hidden physics: a universal ODE and equation discovery
======================================================

Often part of a model is known and part is not. A *universal differential equation* (Rackauckas et al. 2020)
keeps the known terms and lets a network stand in for the rest,

.. math::

    \frac{du}{dt} = N(u) + \mathrm{NN}_\theta(u),

fitted by integrating the ODE and matching observations. Once fitted, the network's output along the
trajectory can be read back as a formula by sparse regression on a library of candidate terms (STLSQ,
Brunton, Proctor & Kutz 2016).

The Lotka–Volterra system :math:`\dot x = \alpha x - \beta x y`, :math:`\dot y = \gamma x y - \delta y` with
:math:`\alpha = 1.3, \beta = 0.9, \gamma = 0.8, \delta = 1.8`. We *know* the growth :math:`\alpha x` and the
decay :math:`-\delta y`; the interaction terms are hidden. The data: 30 points on :math:`[0, 3]` with 5 %
noise.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import pinnkit as pk
from pinnkit import dynamics as dyn

torch.set_num_threads(1)
start = time.perf_counter()
ALPHA, BETA, GAMMA, DELTA = 1.3, 0.9, 0.8, 1.8
F64 = torch.float64


def lotka_volterra(t, u):
    x, y = u[:, 0], u[:, 1]
    return torch.stack([ALPHA * x - BETA * x * y, GAMMA * x * y - DELTA * y], dim=1)


def known_part(t, u, p):
    return torch.stack([p["alpha"] * u[:, 0], -p["delta"] * u[:, 1]], dim=1)


# %%
# Data: the true system integrated to high accuracy (:class:`~pinnkit.dynamics.NeuralODE` takes any vector
# field ``f(t, u)`` on states ``(B, d)``), observed at 30 times with noise.

u0 = torch.tensor([0.44, 4.6], dtype=F64)
t_obs = torch.linspace(0, 3, 30, dtype=F64)
t_long = torch.linspace(0, 5, 201, dtype=F64)
truth = dyn.NeuralODE(lotka_volterra, rtol=1e-10, atol=1e-12)
with torch.no_grad():
    clean, long = truth(u0, t_obs), truth(u0, t_long)
generator = torch.Generator().manual_seed(0)
observed = clean + 0.05 * clean.abs().mean(0) * torch.randn(clean.shape, generator=generator, dtype=F64)

# %%
# The universal ODE: the known part plus a small network of the state, integrated by RK4 and fitted to the
# observations (Adam, then L-BFGS) by :class:`~pinnkit.dynamics.TrajectoryFit`.

torch.manual_seed(0)
bounds = torch.stack([observed.min(0).values, observed.max(0).values])
net = pk.nets.MLP(2, 2, width=8, depth=2, input_bounds=bounds).double()
ude = dyn.UniversalODE(known_part, net, parameters={"alpha": ALPHA, "delta": DELTA}, trainable=False).double()
fit = dyn.TrajectoryFit(dyn.NeuralODE(ude, method="rk4", step_size=0.2), t_obs, observed, u0=u0, scale="std")
fit.fit(300, lr=2e-2, progress=False)
fit.fit(150, optimizer="lbfgs", progress=False)
with torch.no_grad():
    fitted = fit.predict(t_obs)
print(f"UDE fit: relative L2 error against the clean trajectory on [0, 3] "
      f"{float((fitted - clean).norm() / clean.norm()):.2e}")

# %%
# Equation discovery
# ------------------
# Evaluate the network along the fitted trajectory and regress it on all monomials of :math:`(x, y)` up to
# degree 2; STLSQ repeatedly sets small coefficients to zero and refits the rest. The truth is
# :math:`\mathrm{NN}_1 = -\beta x y`, :math:`\mathrm{NN}_2 = \gamma x y`.

with torch.no_grad():
    states = fit.predict(torch.linspace(0, 3, 200, dtype=F64))
    missing = ude.term("nn", states)
library = dyn.PolynomialLibrary(["x", "y"], degree=2)
scale = float(missing.abs().max())
sweep = dyn.threshold_sweep(library, states, missing, scale * np.array([0.03, 0.1, 0.3]), names=["NN_1", "NN_2"])

# %%
# A network fitted to 30 noisy points is only approximately the missing term, so each distinct sparse form of
# the sweep is *refitted to the data*: its nonzero coefficients become the trainable parameters of a
# :class:`~pinnkit.dynamics.SparsePolynomial` inside the same UDE, and L-BFGS fits them to the observations.
# The form with the lowest Bayesian information criterion :math:`n \log(\mathrm{RSS}/n) + k \log n` wins
# (k nonzero terms, n observed values): it trades the fit against the number of terms.

best = None
n = observed.numel()
for model in sweep:
    term = model.to_module()
    refit_ude = dyn.UniversalODE(known_part, {"discovered": term}, parameters={"alpha": ALPHA, "delta": DELTA},
                                 trainable=False).double()
    refit = dyn.TrajectoryFit(dyn.NeuralODE(refit_ude, method="rk4", step_size=0.2), t_obs, observed, u0=u0,
                              scale="std")
    refit.fit(40, optimizer="lbfgs", progress=False)
    rss, k = float(refit.losses()["data"].detach()), int(term.mask.sum())
    bic = n * np.log(rss) + k * np.log(n)
    print(f"threshold {model.threshold:.3f}: {k} terms, BIC {bic:.1f}:", "; ".join(model.equations()))
    if best is None or bic < best[0]:
        best = (bic, term)
coefficients = (best[1].coefficients * best[1].mask).detach().numpy()          # (terms, 2)
xy = library.terms.index("x y")
beta, gamma = -coefficients[xy, 0], coefficients[xy, 1]
others = float(np.abs(np.delete(coefficients, xy, axis=0)).sum())
print(f"chosen form: the x y terms, and |other coefficients| summing to {others:.2e}")
print(f"beta = {beta:.3f} (true {BETA}, error {abs(beta - BETA) / BETA:.1%}), "
      f"gamma = {gamma:.3f} (true {GAMMA}, error {abs(gamma - GAMMA) / GAMMA:.1%})")

# %%
# The discovered equation, with the known terms put back, extrapolated beyond the data to :math:`t = 5`:


def discovered(t, u):
    x, y = u[:, 0], u[:, 1]
    return torch.stack([ALPHA * x - beta * x * y, gamma * x * y - DELTA * y], dim=1)


with torch.no_grad():
    extrapolated = dyn.NeuralODE(discovered, rtol=1e-8, atol=1e-10)(u0, t_long)
    ude_long = fit.predict(t_long)
later = t_long > 3
for name, pred in (("UDE with its network", ude_long), ("discovered equation", extrapolated)):
    err = float((pred[later] - long[later]).norm() / long[later].norm())
    print(f"{name}: relative L2 error on (3, 5], beyond the data: {err:.2e}")

fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
for k, (ax, label) in enumerate(zip(axes, ("x (prey)", "y (predator)"), strict=True)):
    ax.plot(t_long, long[:, k], "k", lw=2, label="truth")
    ax.plot(t_long, ude_long[:, k], "C0--", label="UDE")
    ax.plot(t_long, extrapolated[:, k], "C3:", lw=2, label="discovered equation")
    ax.plot(t_obs, observed[:, k], "o", ms=4, color="C1", label="observations")
    ax.axvline(3, color="0.6", ls="--", lw=0.8)
    ax.set(xlabel="t", ylabel=label)
axes[0].legend(fontsize=8)
plt.show()
print(f"wall time {time.perf_counter() - start:.1f} s")
