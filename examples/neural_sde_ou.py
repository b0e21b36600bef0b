"""A neural SDE learns an Ornstein–Uhlenbeck process from sample paths, and its drift and diffusion are read
back as θ (μ - x) and σ.

    dX = θ (μ - X) dt + σ dW,   θ = 1, μ = 0.5, σ = 0.3.

Data: 200 paths on [0, 5] sampled every 0.01 with the exact Gaussian transitions of the process, from
initial states uniform on [-0.5, 1.5] (so that the drift is seen on both sides of μ).

Model: drift and diffusion are small networks of the state (the diffusion through ``exp`` to stay positive),
fitted by default by the Euler–Maruyama transition likelihood (``--method transition``, the right choice for
finely sampled paths; :class:`pinnkit.dynamics.SDETransitionFit`). ``--method moments`` instead keeps every
``--coarse``-th time and matches the time-dependent mean and variance of paths sampled from the model by
torchsde (:class:`pinnkit.dynamics.SDEMomentFit`), the choice for coarse sampling.

Recovery: on a grid of 200 states spanning the observed range (1 % to 99 % quantiles), STLSQ with the
library (1, x) on the learned drift gives ``c0 + c1 x``, so θ = -c1 and μ = c0 / θ; σ is the mean of the
learned diffusion on that grid (its spread there is reported too). Check: paths sampled from the fitted SDE
by torchsde are compared with the exact mean and variance of the process.

Outputs in ``--out DIR``: ``metrics.json`` (θ, μ, σ, their relative errors, the printed drift and diffusion,
moment errors of the fitted model, wall time), ``fit.pt``, ``drift_diffusion.png``, ``moments.png``,
``history.png``.

Run ``python examples/neural_sde_ou.py --out out/neural_sde_ou`` (``--quick`` for a smoke test).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn

import pinnkit as pk
from pinnkit import dynamics as dyn

THETA, MU, SIGMA = 1.0, 0.5, 0.3
DEFAULTS = {"paths": 200, "horizon": 5.0, "adam": 300, "lbfgs": 100, "width": 16}
QUICK = {"paths": 40, "horizon": 1.0, "adam": 20, "lbfgs": 5, "width": 8}
F64 = torch.float64


class ExpNet(nn.Module):
    """``exp(net(u))``: a positive diffusion."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, u):
        return torch.exp(self.net(u))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--paths", type=int, default=None, help=f"sample paths (default {DEFAULTS['paths']})")
    p.add_argument("--horizon", type=float, default=None, help=f"end time (default {DEFAULTS['horizon']})")
    p.add_argument("--dt", type=float, default=0.01, help="sampling step of the paths (default 0.01)")
    p.add_argument("--method", choices=("transition", "moments"), default="transition",
                   help="fitting method (default transition)")
    p.add_argument("--coarse", type=int, default=50, help="--method moments keeps every COARSE-th time "
                   "(default 50)")
    p.add_argument("--samples", type=int, default=400, help="model paths per step of --method moments")
    p.add_argument("--steps", type=int, default=None, help=f"Adam steps (default {DEFAULTS['adam']})")
    p.add_argument("--lbfgs-steps", type=int, default=None, help=f"L-BFGS iterations (default {DEFAULTS['lbfgs']})")
    p.add_argument("--width", type=int, default=None, help=f"hidden width (default {DEFAULTS['width']})")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate (default 1e-2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and the initialisation")
    p.add_argument("--out", type=Path, default=Path("out/neural_sde_ou"), help="output directory")
    p.add_argument("--quick", action="store_true", help="a smoke test: few paths and steps")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    pk.cli.require_one_process(p, "SDE fits are not data-parallel")
    pk.cli.check_out(p, args.out)
    base = QUICK if args.quick else DEFAULTS
    for key, arg in (("paths", "paths"), ("horizon", "horizon"), ("adam", "steps"), ("lbfgs", "lbfgs_steps"),
                     ("width", "width")):
        if getattr(args, arg) is None:
            setattr(args, arg, base[key])
    if args.paths < 2 or args.samples < 2 or args.coarse < 1:
        p.error("--paths and --samples must be at least 2, --coarse at least 1")
    if args.horizon <= 0 or args.dt <= 0 or args.dt >= args.horizon or args.lr <= 0:
        p.error("--horizon, --dt and --lr must be positive, --dt below --horizon")
    if args.steps < 0 or args.lbfgs_steps < 0 or args.seed < 0:
        p.error("--steps, --lbfgs-steps and --seed must be non-negative")
    return args


def ou_paths(t: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Exact OU paths ``(T, n)``: X_{i+1} = μ + (X_i - μ) e^{-θΔ} + σ sqrt((1 - e^{-2θΔ}) / 2θ) ξ."""
    x = np.empty((len(t), n))
    x[0] = rng.uniform(-0.5, 1.5, n)
    for i in range(len(t) - 1):
        decay = math.exp(-THETA * (t[i + 1] - t[i]))
        x[i + 1] = MU + (x[i] - MU) * decay + SIGMA * math.sqrt((1 - decay**2) / (2 * THETA)) * rng.normal(size=n)
    return x


def exact_moments(t: np.ndarray, x0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance ``(T,)`` of X_t over the initial states x0 (a mixture of the OU transition laws)."""
    decay = np.exp(-THETA * t)[:, None]
    means = MU + (x0[None] - MU) * decay  # (T, n)
    var = SIGMA**2 * (1 - decay[:, 0] ** 2) / (2 * THETA)
    return means.mean(1), var + means.var(1)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    steps = int(round(args.horizon / args.dt))
    t = torch.linspace(0, steps * args.dt, steps + 1, dtype=F64)
    paths = torch.from_numpy(ou_paths(t.numpy(), args.paths, rng))[:, :, None]  # (T, B, 1)

    torch.manual_seed(args.seed)
    drift_net = pk.nets.MLP(1, 1, width=args.width, depth=2, input_bounds=[[-0.5], [1.5]]).double()
    diffusion_net = pk.nets.MLP(1, 1, width=args.width, depth=2, input_bounds=[[-0.5], [1.5]]).double()
    sde = dyn.NeuralSDE(dyn.Autonomous(drift_net), dyn.Autonomous(ExpNet(diffusion_net)), dt=args.dt)
    if args.method == "transition":
        fit = dyn.SDETransitionFit(sde, t, paths)
    else:
        fit = dyn.SDEMomentFit(sde, t[::args.coarse], paths[::args.coarse], samples=args.samples, seed=args.seed)
    progress = not args.no_progress
    log_every = max(1, min(25, args.steps // 10 or 1))
    if args.steps:
        fit.fit(args.steps, lr=args.lr, log_every=log_every, progress=progress)
    if args.lbfgs_steps:
        fit.fit(args.lbfgs_steps, optimizer="lbfgs", log_every=log_every, progress=progress)
    fit_time = time.perf_counter() - start

    # read the learned drift and diffusion back over the observed states (1 % to 99 % quantiles)
    lo, hi = np.quantile(paths.numpy(), [0.01, 0.99])
    x = torch.linspace(float(lo), float(hi), 200, dtype=F64)[:, None]
    with torch.no_grad():
        drift, diffusion = sde.drift(None, x), sde.diffusion(None, x)
    library = dyn.PolynomialLibrary(["x"], degree=1)
    drift_eq = dyn.SparseRegression(library, threshold=1e-3).fit(x, drift, names=["drift"])
    diffusion_eq = dyn.SparseRegression(library, threshold=1e-3).fit(x, diffusion, names=["diffusion"])
    theta = -drift_eq.coefficient("drift", "x")
    mu = drift_eq.coefficient("drift", "1") / theta
    sigma = float(diffusion.mean())

    # check: paths of the fitted SDE against the exact moments of the process
    x0 = paths[0]
    t_check = torch.linspace(0, float(t[-1]), 11, dtype=F64)
    with torch.no_grad():
        model_paths = sde(x0.repeat(10, 1), t_check, seed=args.seed + 1)[:, :, 0]
    mean_exact, var_exact = exact_moments(t_check.numpy(), x0[:, 0].numpy())
    mean_model, var_model = model_paths.mean(1).numpy(), model_paths.var(1).numpy()
    wall = time.perf_counter() - start

    metrics = {
        "theta": theta, "mu": mu, "sigma": sigma, "theta_true": THETA, "mu_true": MU, "sigma_true": SIGMA,
        "theta_relative_error": abs(theta - THETA) / THETA, "mu_relative_error": abs(mu - MU) / MU,
        "sigma_relative_error": abs(sigma - SIGMA) / SIGMA,
        "drift_equation": drift_eq.equations()[0], "diffusion_equation": diffusion_eq.equations()[0],
        "diffusion_spread": float(diffusion.max() - diffusion.min()),
        "drift_max_abs_error": float((drift[:, 0] - THETA * (MU - x[:, 0])).abs().max()),
        "model_mean_max_abs_error": float(np.abs(mean_model - mean_exact).max()),
        "model_variance_max_relative_error": float(np.abs(var_model - var_exact).max() / var_exact.max()),
        "final_loss": fit.history[-1]["loss"], "method": args.method, "paths": args.paths,
        "horizon": float(t[-1]), "dt": args.dt, "coarse": args.coarse if args.method == "moments" else None,
        "steps": fit.step, "adam_steps": args.steps, "lbfgs_steps": args.lbfgs_steps, "width": args.width,
        "lr": args.lr, "seed": args.seed, "wall_time_s": wall, "fit_time_s": fit_time, "quick": args.quick,
    }
    pk.cli.write_json(args.out / "metrics.json", metrics)
    fit.save(args.out / "fit.pt")
    plot_loss(fit.history, args.out / "history.png")
    plot_drift_diffusion(x[:, 0].numpy(), drift[:, 0].numpy(), diffusion[:, 0].numpy(),
                         args.out / "drift_diffusion.png")
    plot_moments(t_check.numpy(), mean_exact, var_exact, mean_model, var_model, t.numpy(), paths[:, :20, 0].numpy(),
                 args.out / "moments.png")
    print(drift_eq)
    print(diffusion_eq)
    print(f"theta = {theta:.4f} ({metrics['theta_relative_error']:.1%}), mu = {mu:.4f} "
          f"({metrics['mu_relative_error']:.1%}), sigma = {sigma:.4f} ({metrics['sigma_relative_error']:.1%}); "
          f"{wall:.1f} s; wrote {args.out}/")
    return metrics


def plot_loss(history: list[dict], path) -> None:
    """The loss against the step on a linear axis (a negative log-likelihood can be negative, so no log axis)."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot([r["step"] for r in history], [r["loss"] for r in history], "k.-")
    ax.set(xlabel="step", ylabel="loss", title="training loss (Adam, then L-BFGS)")
    fig.savefig(path, dpi=110)


def plot_drift_diffusion(x, drift, diffusion, path) -> None:
    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    axes[0].plot(x, THETA * (MU - x), "k", lw=2, label="θ (μ - x)")
    axes[0].plot(x, drift, "C3--", lw=1.5, label="learned")
    axes[0].set(xlabel="x", ylabel="drift", title="drift")
    axes[1].plot(x, np.full_like(x, SIGMA), "k", lw=2, label="σ")
    axes[1].plot(x, diffusion, "C3--", lw=1.5, label="learned")
    axes[1].set(xlabel="x", ylabel="diffusion", title="diffusion", ylim=(0, 2 * SIGMA))
    for ax in axes:
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


def plot_moments(t, mean_exact, var_exact, mean_model, var_model, t_paths, some_paths, path) -> None:
    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    axes[0].plot(t_paths, some_paths, color="0.75", lw=0.5)
    axes[0].plot(t, mean_exact, "k", lw=2, label="exact mean")
    axes[0].plot(t, mean_model, "C3o--", ms=4, label="fitted SDE")
    axes[0].set(xlabel="t", ylabel="X", title="20 data paths and the mean")
    axes[1].plot(t, var_exact, "k", lw=2, label="exact")
    axes[1].plot(t, var_model, "C3o--", ms=4, label="fitted SDE")
    axes[1].set(xlabel="t", ylabel="variance", title="variance over the paths")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
