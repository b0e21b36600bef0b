"""Lotka–Volterra with a universal differential equation: learn the unknown interaction terms from 30 noisy
observations, read them back as a formula, and extrapolate (Rackauckas et al., arXiv:2001.04385, 2020).

    dx/dt = α x - β x y,   dy/dt = γ x y - δ y,   α = 1.3, β = 0.9, γ = 0.8, δ = 1.8,   u(0) = (0.44, 4.6).

The growth α x and decay -δ y are known; the interactions are not. The UDE

    dx/dt = α x + NN_1(x, y),   dy/dt = -δ y + NN_2(x, y)

is fitted (Adam, then L-BFGS) to 30 observations on [0, 3] with 5 % Gaussian noise (standard deviation 5 % of
the mean magnitude of each component). Then:

1. *Discovery*: STLSQ on a degree-2 polynomial library of (x, y), fitted to the network's output along the
   fitted trajectory, for a sweep of thresholds; each distinct sparse form is refitted to the data (its
   nonzero coefficients trained by L-BFGS) and the form with the lowest BIC ``n log(RSS/n) + k log n`` wins.
2. *Extrapolation* to t = 6 of the UDE (with its network), of the discovered equation, and of a plain neural
   ODE (a network for the whole right-hand side) trained on the same data with the same schedule.

Outputs in ``--out DIR``: ``metrics.json`` (recovered β and γ and their relative errors, the discovered
equations before and after the refit, all BIC candidates, extrapolation errors, wall time), ``data.npz``,
``ude.pt`` / ``node.pt`` (fit states), ``trajectories.png``, ``missing_term.png``, ``history_ude.png``,
``history_node.png``.

Run ``python examples/lotka_volterra_ude.py --out out/lotka_volterra`` (``--quick`` for a smoke test).
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

import pinnkit as pk
from pinnkit import dynamics as dyn
from pinnkit.plotting import plot_history

ALPHA, BETA, GAMMA, DELTA = 1.3, 0.9, 0.8, 1.8
U0 = (0.44, 4.6)
DEFAULTS = {"adam": 600, "lbfgs": 300, "refit": 100, "width": 8, "depth": 2, "thresholds": 40}
QUICK = {"adam": 30, "lbfgs": 5, "refit": 3, "width": 8, "depth": 2, "thresholds": 5}
F64 = torch.float64


def lotka_volterra(t, u):
    """The full right-hand side (the truth), ``(B, 2) -> (B, 2)``."""
    x, y = u[:, 0], u[:, 1]
    return torch.stack([ALPHA * x - BETA * x * y, GAMMA * x * y - DELTA * y], dim=1)


def known_part(t, u, p):
    """The known growth and decay, ``(α x, -δ y)``."""
    return torch.stack([p["alpha"] * u[:, 0], -p["delta"] * u[:, 1]], dim=1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--steps", type=int, default=None, help=f"Adam steps (default {DEFAULTS['adam']})")
    p.add_argument("--lbfgs-steps", type=int, default=None, help=f"L-BFGS iterations (default {DEFAULTS['lbfgs']})")
    p.add_argument("--refit-steps", type=int, default=None,
                   help=f"L-BFGS iterations of each discovered form's refit (default {DEFAULTS['refit']})")
    p.add_argument("--width", type=int, default=None, help=f"hidden width (default {DEFAULTS['width']})")
    p.add_argument("--depth", type=int, default=None, help=f"hidden layers (default {DEFAULTS['depth']})")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate (default 1e-2)")
    p.add_argument("--observations", type=int, default=30, help="observation times on [0, 3] (default 30)")
    p.add_argument("--noise", type=float, default=0.05, help="relative noise level (default 0.05)")
    p.add_argument("--step-size", type=float, default=0.1, help="RK4 step of the models (default 0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise and the initialisation")
    p.add_argument("--out", type=Path, default=Path("out/lotka_volterra"), help="output directory")
    p.add_argument("--quick", action="store_true", help="a smoke test: few steps")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    pk.cli.require_one_process(p, "trajectory fits are not data-parallel")
    pk.cli.check_out(p, args.out)
    base = QUICK if args.quick else DEFAULTS
    for key, arg in (("adam", "steps"), ("lbfgs", "lbfgs_steps"), ("refit", "refit_steps"), ("width", "width"),
                     ("depth", "depth")):
        if getattr(args, arg) is None:
            setattr(args, arg, base[key])
    args.thresholds = base["thresholds"]
    for name in ("steps", "lbfgs_steps", "refit_steps"):
        if getattr(args, name) < 0:
            p.error(f"--{name.replace('_', '-')} must be non-negative")
    if args.observations < 3:
        p.error("--observations must be at least 3")
    if args.noise < 0 or args.step_size <= 0 or args.lr <= 0:
        p.error("--noise must be non-negative, --step-size and --lr positive")
    if args.seed < 0:
        p.error("--seed must be non-negative")
    return args


def make_data(args) -> dict[str, torch.Tensor]:
    truth = dyn.NeuralODE(lotka_volterra, rtol=1e-10, atol=1e-12)
    u0 = torch.tensor(U0, dtype=F64)
    t = torch.linspace(0, 3, args.observations, dtype=F64)
    t_long = torch.linspace(0, 6, 241, dtype=F64)
    with torch.no_grad():
        clean, long = truth(u0, t), truth(u0, t_long)
    generator = torch.Generator().manual_seed(args.seed)
    sd = args.noise * clean.abs().mean(dim=0)
    noisy = clean + sd * torch.randn(clean.shape, generator=generator, dtype=F64)
    return {"u0": u0, "t": t, "clean": clean, "observed": noisy, "t_long": t_long, "long": long}


def train(fit: dyn.TrajectoryFit, args) -> None:
    progress = not args.no_progress
    log_every = max(1, min(50, args.steps // 10 or 1))
    if args.steps:
        fit.fit(args.steps, lr=args.lr, log_every=log_every, progress=progress)
    if args.lbfgs_steps:
        fit.fit(args.lbfgs_steps, optimizer="lbfgs", log_every=log_every, progress=progress)


def relative_error(pred: torch.Tensor, ref: torch.Tensor) -> float | None:
    """Relative L2 error; ``None`` (null in metrics.json) when the prediction blew up."""
    value = float((pred - ref).norm() / ref.norm())
    return value if math.isfinite(value) else None


def discover(ude: dyn.UniversalODE, fit: dyn.TrajectoryFit, data, args) -> tuple[dict, list[dict]]:
    """STLSQ threshold sweep on the network's output along the fitted trajectory, each form refitted to the
    data, the lowest BIC kept. Returns the chosen candidate and all candidates."""
    states = fit.predict(torch.linspace(0, 3, 200, dtype=F64))
    with torch.no_grad():
        missing = ude.term("nn", states)
    library = dyn.PolynomialLibrary(["x", "y"], degree=2)
    scale = float(missing.abs().max())
    sweep = dyn.threshold_sweep(library, states, missing, np.geomspace(1e-3, 1.0, args.thresholds) * scale,
                                names=["NN_1", "NN_2"])
    n = int(fit.mask.sum())
    candidates = []
    for model in sweep:
        term = model.to_module()
        refit_ude = dyn.UniversalODE(known_part, {"discovered": term}, parameters={"alpha": ALPHA, "delta": DELTA},
                                     trainable=False).double()
        refit = dyn.TrajectoryFit(dyn.NeuralODE(refit_ude, method="rk4", step_size=args.step_size), data["t"],
                                  data["observed"], u0=data["u0"], scale="std")
        try:
            if args.refit_steps:
                refit.fit(args.refit_steps, optimizer="lbfgs", progress=False)
            rss = float(refit.losses()["data"].detach())
        except (pk.NonFiniteLossError, AssertionError):  # a form that blows up in the refit is no candidate
            continue
        refitted = dyn.SparseRegression(library, model.threshold)
        refitted.coefficients = (term.coefficients * term.mask).detach().numpy().copy()
        refitted.targets = model.targets
        k = int(term.mask.sum())
        candidates.append({"threshold": model.threshold, "terms": k, "mse": rss,
                           "bic": n * math.log(rss) + k * math.log(n), "stlsq": model.equations(),
                           "refitted": refitted.equations(), "_stlsq": model, "_refitted": refitted,
                           "_ude": refit_ude})
    if not candidates:
        raise RuntimeError("no discovered form could be refitted to the data")
    best = min(candidates, key=lambda c: c["bic"])
    return best, candidates


def plot_trajectories(data, curves: dict[str, np.ndarray], path: Path) -> None:
    fig = Figure(figsize=(11, 4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    t_long = data["t_long"].numpy()
    for k, (ax, name) in enumerate(zip(axes, ("x (prey)", "y (predator)"), strict=True)):
        ax.plot(t_long, data["long"][:, k].numpy(), "k", lw=2, label="truth")
        for (label, values), style in zip(curves.items(), ("C0--", "C2-.", "C3:"), strict=False):
            ax.plot(t_long, values[:, k], style, lw=1.5, label=label)
        ax.plot(data["t"].numpy(), data["observed"][:, k].numpy(), "o", ms=4, color="C1", label="observations")
        ax.axvline(3.0, color="0.6", ls="--", lw=0.8)
        ax.set(xlabel="t", ylabel=name, title=f"{name}: fit on [0, 3], extrapolation to 6")
        ax.set_ylim(-0.5, 1.3 * float(data["long"][:, k].max()))
    axes[0].legend(fontsize=8)
    fig.savefig(path, dpi=110)


def plot_missing_term(t: np.ndarray, learned: np.ndarray, exact: np.ndarray, path: Path) -> None:
    fig = Figure(figsize=(6, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for k, (name, color) in enumerate((("NN_1 vs -β x y", "C0"), ("NN_2 vs +γ x y", "C3"))):
        ax.plot(t, exact[:, k], color=color, lw=2, label=f"{name.split(' vs ')[1]} (exact)")
        ax.plot(t, learned[:, k], "--", color=color, lw=1.5, label=f"{name.split(' vs ')[0]} (learned)")
    ax.set(xlabel="t", ylabel="missing term along the fitted trajectory", title="the learned interaction terms")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    data = make_data(args)
    bounds = torch.stack([data["observed"].min(dim=0).values, data["observed"].max(dim=0).values])

    torch.manual_seed(args.seed)
    net = pk.nets.MLP(2, 2, width=args.width, depth=args.depth, input_bounds=bounds).double()
    ude = dyn.UniversalODE(known_part, net, parameters={"alpha": ALPHA, "delta": DELTA}, trainable=False).double()
    ude_fit = dyn.TrajectoryFit(dyn.NeuralODE(ude, method="rk4", step_size=args.step_size), data["t"],
                                data["observed"], u0=data["u0"], scale="std")
    train(ude_fit, args)
    ude_time = time.perf_counter() - start

    best, candidates = discover(ude, ude_fit, data, args)
    discovered = best["_refitted"]
    beta = -discovered.coefficient("NN_1", "x y")
    gamma = discovered.coefficient("NN_2", "x y")
    xy = discovered.library.terms.index("x y")
    others = float(np.abs(np.delete(discovered.coefficients, xy, axis=0)).sum())  # terms besides x y
    stlsq = best["_stlsq"]
    discovery_time = time.perf_counter() - start - ude_time

    torch.manual_seed(args.seed)
    node_net = pk.nets.MLP(2, 2, width=args.width, depth=args.depth, input_bounds=bounds).double()
    node_fit = dyn.TrajectoryFit(dyn.NeuralODE(dyn.Autonomous(node_net), method="rk4", step_size=args.step_size),
                                 data["t"], data["observed"], u0=data["u0"], scale="std")
    train(node_fit, args)
    wall = time.perf_counter() - start

    t_long, long = data["t_long"], data["long"]
    later = t_long > 3
    with torch.no_grad():
        eq_model = dyn.NeuralODE(best["_ude"], method="rk4", step_size=args.step_size)
        curves = {"UDE (network)": ude_fit.predict(t_long), "discovered equation": eq_model(data["u0"], t_long),
                  "neural ODE": node_fit.predict(t_long)}
    errors = {name: {"fit_0_3": relative_error(c[~later], long[~later]),
                     "extrapolation_3_6": relative_error(c[later], long[later]),
                     "whole_0_6": relative_error(c, long)} for name, c in curves.items()}
    metrics = {
        "beta": beta, "gamma": gamma, "beta_true": BETA, "gamma_true": GAMMA,
        "beta_relative_error": abs(beta - BETA) / BETA, "gamma_relative_error": abs(gamma - GAMMA) / GAMMA,
        "other_terms_abs_sum": others,
        "equations": discovered.equations(), "equations_stlsq_before_refit": stlsq.equations(),
        "beta_stlsq": -stlsq.coefficient("NN_1", "x y"), "gamma_stlsq": stlsq.coefficient("NN_2", "x y"),
        "candidates": [{k: v for k, v in c.items() if not k.startswith("_")} for c in candidates],
        "relative_l2_errors": errors,
        "ude_extrapolation_error": errors["UDE (network)"]["extrapolation_3_6"],
        "discovered_extrapolation_error": errors["discovered equation"]["extrapolation_3_6"],
        "neural_ode_extrapolation_error": errors["neural ODE"]["extrapolation_3_6"],
        "ude_final_loss": ude_fit.history[-1]["loss"], "neural_ode_final_loss": node_fit.history[-1]["loss"],
        "wall_time_s": wall, "ude_time_s": ude_time, "discovery_time_s": discovery_time,
        "adam_steps": args.steps, "lbfgs_steps": args.lbfgs_steps, "refit_steps": args.refit_steps,
        "ude_steps": ude_fit.step, "neural_ode_steps": node_fit.step, "width": args.width, "depth": args.depth,
        "lr": args.lr, "observations": args.observations, "noise": args.noise, "step_size": args.step_size,
        "seed": args.seed, "quick": args.quick,
    }
    pk.cli.write_json(args.out / "metrics.json", metrics)
    np.savez(args.out / "data.npz", t=data["t"].numpy(), observed=data["observed"].numpy(),
             clean=data["clean"].numpy(), t_long=t_long.numpy(), truth=long.numpy(),
             **{name.split(" ")[0].lower(): c.numpy() for name, c in curves.items()})
    ude_fit.save(args.out / "ude.pt")
    node_fit.save(args.out / "node.pt")
    plot_trajectories(data, {k: v.numpy() for k, v in curves.items()}, args.out / "trajectories.png")
    t_dense = torch.linspace(0, 3, 200, dtype=F64)
    states = ude_fit.predict(t_dense)
    with torch.no_grad():
        learned = ude.term("nn", states).numpy()
    xy = (states[:, 0] * states[:, 1]).numpy()
    plot_missing_term(t_dense.numpy(), learned, np.stack([-BETA * xy, GAMMA * xy], 1), args.out / "missing_term.png")
    plot_history(ude_fit.history, args.out / "history_ude.png")
    plot_history(node_fit.history, args.out / "history_node.png")
    print("discovered (after refit):")
    for line in discovered.equations():
        print("  " + line)
    print(f"beta = {beta:.4f} (true {BETA}, error {metrics['beta_relative_error']:.1%}), gamma = {gamma:.4f} "
          f"(true {GAMMA}, error {metrics['gamma_relative_error']:.1%})")
    print("relative L2 error on the extrapolation (3, 6]: " + ", ".join(
        f"{name} {e['extrapolation_3_6']:.3e}" if e["extrapolation_3_6"] is not None else f"{name} blew up"
        for name, e in errors.items()) + f"; {wall:.1f} s; wrote {args.out}/")
    return metrics


if __name__ == "__main__":
    main()
