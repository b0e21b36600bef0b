"""The classic neural ODE spiral, trained with direct backpropagation and with the adjoint method.

    du/dt = A u³ (componentwise cube),   A = [[-0.1, 2.0], [-2.0, -0.1]],   u(0) = (2, 0),   t ∈ [0, 25].

A network ``f(u) = W₂ tanh(W₁ u³ + b₁) + b₂`` (the cube is the one piece of prior knowledge, as in Chen et al.,
NeurIPS 2018, and torchdiffeq's demo) is fitted to 1000 samples of the trajectory. The long horizon is cut
into short windows (every ``--stride``-th sample starts a window of ``--window`` samples) that are solved as one
batch of trajectories from their observed starts, in window-local time (the field is autonomous). Two copies
of the same initial network are trained with the same Adam schedule, one with gradients by direct
backpropagation through the solver, one by the adjoint method; the script reports how far their first
gradients differ (solver tolerance), their time per step, and the relative L2 error of each fitted model's
whole trajectory from u(0) over [0, 25].

Outputs in ``--out DIR``: ``metrics.json``, ``spiral.png``, ``history_direct.png``, ``history_adjoint.png``,
``direct.pt`` and ``adjoint.pt`` (fit states).

Run ``python examples/neural_ode_spiral.py --out out/neural_ode_spiral`` (``--quick`` for a smoke test).
"""

from __future__ import annotations

import argparse
import copy
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
from pinnkit.plotting import plot_history

A = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]], dtype=torch.float64)
DEFAULTS = {"steps": 400, "samples": 1000, "width": 50}
QUICK = {"steps": 15, "samples": 200, "width": 16}
F64 = torch.float64


class CubedInput(nn.Module):
    """``f(u) = net(u³)``."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, u):
        return self.net(u**3)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--steps", type=int, default=None, help=f"Adam steps per model (default {DEFAULTS['steps']})")
    p.add_argument("--samples", type=int, default=None, help=f"trajectory samples (default {DEFAULTS['samples']})")
    p.add_argument("--width", type=int, default=None, help=f"hidden width (default {DEFAULTS['width']})")
    p.add_argument("--window", type=int, default=10, help="samples per training window (default 10)")
    p.add_argument("--stride", type=int, default=5, help="a window starts at every STRIDE-th sample (default 5)")
    p.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate (default 1e-2)")
    p.add_argument("--rtol", type=float, default=1e-6, help="dopri5 relative tolerance (default 1e-6)")
    p.add_argument("--atol", type=float, default=1e-8, help="dopri5 absolute tolerance (default 1e-8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initialisation")
    p.add_argument("--out", type=Path, default=Path("out/neural_ode_spiral"), help="output directory")
    p.add_argument("--quick", action="store_true", help="a smoke test: few samples and steps")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    pk.cli.require_one_process(p, "trajectory fits are not data-parallel")
    pk.cli.check_out(p, args.out)
    base = QUICK if args.quick else DEFAULTS
    for key in ("steps", "samples", "width"):
        if getattr(args, key) is None:
            setattr(args, key, base[key])
    if args.steps < 0 or args.seed < 0:
        p.error("--steps and --seed must be non-negative")
    if args.window < 2 or args.stride < 1 or args.samples < args.window + 1:
        p.error("--window must be at least 2, --stride at least 1, --samples more than --window")
    if args.lr <= 0 or args.rtol <= 0 or args.atol <= 0:
        p.error("--lr, --rtol and --atol must be positive")
    return args


def windows(t: torch.Tensor, u: torch.Tensor, window: int, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Window-local times ``(window,)`` and observations ``(window, B, d)`` of the windows starting at every
    ``stride``-th sample (the samples are equally spaced, so all windows share the local times)."""
    starts = range(0, len(t) - window + 1, stride)
    return t[:window] - t[0], torch.stack([u[s:s + window] for s in starts], dim=1)


def gradient(fit: dyn.TrajectoryFit) -> tuple[torch.Tensor, float]:
    fit.module.zero_grad(set_to_none=True)
    begin = time.perf_counter()
    fit.loss().backward()
    seconds = time.perf_counter() - begin
    grad = torch.cat([p.grad.flatten() for p in fit.trainable_parameters()])
    fit.module.zero_grad(set_to_none=True)
    return grad, seconds


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    u0 = torch.tensor([2.0, 0.0], dtype=F64)
    t = torch.linspace(0, 25, args.samples, dtype=F64)
    truth = dyn.NeuralODE(lambda s, u: u**3 @ A.T, rtol=1e-10, atol=1e-12)
    with torch.no_grad():
        u_true = truth(u0, t)
    t_local, observed = windows(t, u_true, args.window, args.stride)

    torch.manual_seed(args.seed)
    net = pk.nets.MLP(2, 2, width=args.width, depth=1).double()
    fits, results = {}, {}
    for mode in ("direct", "adjoint"):
        field = dyn.Autonomous(CubedInput(copy.deepcopy(net)))
        model = dyn.NeuralODE(field, rtol=args.rtol, atol=args.atol, adjoint=mode == "adjoint")
        fits[mode] = dyn.TrajectoryFit(model, t_local, observed)
    first = {mode: gradient(fit) for mode, fit in fits.items()}
    grad_difference = float((first["direct"][0] - first["adjoint"][0]).norm() / first["direct"][0].norm())

    for mode, fit in fits.items():
        begin = time.perf_counter()
        if args.steps:
            fit.fit(args.steps, lr=args.lr, log_every=max(1, min(20, args.steps // 10 or 1)),
                    progress=not args.no_progress)
        seconds = time.perf_counter() - begin
        with torch.no_grad():
            whole = fit.module(u0, t)
        results[mode] = {
            "trajectory_relative_l2_error": float((whole - u_true).norm() / u_true.norm()),
            "final_window_loss": fit.history[-1]["loss"] if fit.history else None,
            "train_time_s": seconds, "time_per_step_s": seconds / max(args.steps, 1),
            "first_gradient_time_s": first[mode][1], "prediction": whole.numpy(),
        }
    wall = time.perf_counter() - start
    metrics = {
        "first_gradient_relative_difference": grad_difference,
        **{f"{mode}_{k}": v for mode, r in results.items() for k, v in r.items() if k != "prediction"},
        "adjoint_over_direct_time": results["adjoint"]["train_time_s"] / max(results["direct"]["train_time_s"], 1e-12),
        "windows": observed.shape[1], "window": args.window, "stride": args.stride, "samples": args.samples,
        "steps": args.steps, "width": args.width, "lr": args.lr, "rtol": args.rtol, "atol": args.atol,
        "seed": args.seed, "wall_time_s": wall, "quick": args.quick,
    }
    pk.cli.write_json(args.out / "metrics.json", metrics)
    for mode, fit in fits.items():
        fit.save(args.out / f"{mode}.pt")
        if fit.history:
            plot_history(fit.history, args.out / f"history_{mode}.png")
    plot_spiral(u_true.numpy(), {m: r["prediction"] for m, r in results.items()}, args.out / "spiral.png")
    print(f"first gradients: adjoint vs direct relative difference {grad_difference:.2e}")
    for mode, r in results.items():
        print(f"{mode}: trajectory relative L2 error {r['trajectory_relative_l2_error']:.3e}, "
              f"{r['time_per_step_s'] * 1e3:.1f} ms per step")
    print(f"{wall:.1f} s; wrote {args.out}/")
    return metrics


def plot_spiral(truth: np.ndarray, predictions: dict[str, np.ndarray], path: Path) -> None:
    fig = Figure(figsize=(5.5, 5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(truth[:, 0], truth[:, 1], "k", lw=2, label="truth")
    for (mode, pred), style in zip(predictions.items(), ("C0--", "C3:"), strict=True):
        ax.plot(pred[:, 0], pred[:, 1], style, lw=1.5, label=f"neural ODE ({mode})")
    ax.set(xlabel="u₁", ylabel="u₂", title="du/dt = A u³ from u(0) = (2, 0), t ∈ [0, 25]", aspect="equal")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
