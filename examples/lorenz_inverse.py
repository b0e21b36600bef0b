"""Identify the three coefficients of the Lorenz system from 25 observations: DeepXDE's ``Lorenz_inverse`` demo.

    x' = C1 (y - x),   y' = x (C2 - z) - y,   z' = x y - C3 z,   t in [0, 3],   (x, y, z)(0) = (-8, 7, 27)

with true values ``C1 = 10, C2 = 15, C3 = 8/3``, all three started at 1. The observations are the solution at
``--observations`` (25) equally spaced times, computed here by scipy's DOP853 at tolerance 1e-12 (DeepXDE's demo
reads the same kind of data from its ``Lorenz.npz``). The set-up is the demo's, line for line:

* an ODE system on a bare ``TimeDomain``, one ``InitialCondition`` per output;
* one ``ObservedData`` of the three outputs: its loss is the sum of the three outputs' mean squares, as DeepXDE's
  three ``PointSetBC`` objects give;
* the ODE at 400 Hammersley points plus DeepXDE's ``num_boundary=2`` ends and ``anchors=`` (the observation
  times): ``GivenPoints(anchors, FixedPoints(400, "hammersley"))``;
* an MLP 1 -> 40 x 3 -> 3, tanh, Glorot-uniform weights; Adam at lr 1e-3 for 20000 steps, float32.

Outputs in ``--out DIR``: ``metrics.json`` (identified values, relative errors, wall time), ``model.pt`` and
``history.png`` (the coefficients as they are learnt). ``benchmarks/lorenz_inverse.py`` runs this and DeepXDE's
demo side by side.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.integrate import solve_ivp

import pinnkit as pk
from pinnkit.plotting import plot_history

TRUE = {"C1": 10.0, "C2": 15.0, "C3": 8.0 / 3.0}
START = (-8.0, 7.0, 27.0)
T1 = 3.0
DEFAULTS = {"steps": 20000, "width": 40, "depth": 3, "points": 400}
QUICK = {"steps": 200, "width": 16, "depth": 2, "points": 50}


def lorenz(f):
    """The Lorenz residuals with the trainable coefficients ``f.C1, f.C2, f.C3``."""
    return {"ode_x": f.x_t - f.C1 * (f.y - f.x),
            "ode_y": f.y_t - f.x * (f.C2 - f.z) + f.y,
            "ode_z": f.z_t - f.x * f.y + f.C3 * f.z}


def observations(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` equally spaced times in [0, 3] (n, 1) and the true solution there (n, 3)."""
    t = np.linspace(0.0, T1, n)

    def rhs(_, u):
        x, y, z = u
        return [TRUE["C1"] * (y - x), x * (TRUE["C2"] - z) - y, x * y - TRUE["C3"] * z]

    solution = solve_ivp(rhs, (0.0, T1), START, method="DOP853", t_eval=t, rtol=1e-12, atol=1e-12)
    return t[:, None], solution.y.T


def build(args: argparse.Namespace, times: np.ndarray, values: np.ndarray) -> pk.Trainer:
    """The trainer of the demo's set-up (module docstring)."""
    domain = pk.geometry.TimeDomain(0.0, T1)
    problem = pk.Problem(domain, lorenz, outputs=("x", "y", "z"), parameters={k: 1.0 for k in TRUE},
                         conditions=[pk.InitialCondition(START[0], output="x"),
                                     pk.InitialCondition(START[1], output="y"),
                                     pk.InitialCondition(START[2], output="z"),
                                     pk.ObservedData(times, values, outputs=("x", "y", "z"))])
    anchors = np.concatenate([[[0.0], [T1]], times])
    sampler = pk.sampling.GivenPoints(np.unique(anchors, axis=0),
                                      pk.sampling.FixedPoints(args.points, "hammersley"))
    torch.manual_seed(args.seed)
    net = pk.nets.MLP(1, 3, width=args.width, depth=args.depth, init="glorot_uniform")
    return pk.Trainer(problem, net, sampler=sampler, lr=1e-3, dtype=getattr(torch, args.dtype), device=args.device,
                      seed=args.seed, loss_weights={"data": args.data_weight})


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--observations", type=int, default=25)
    p.add_argument("--steps", type=int, default=None, help=f"Adam steps (default {DEFAULTS['steps']})")
    p.add_argument("--width", type=int, default=None)
    p.add_argument("--depth", type=int, default=None)
    p.add_argument("--points", type=int, default=None, help="collocation points besides the anchors (400)")
    p.add_argument("--data-weight", type=float, default=1.0, help="loss weight of the observations")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--out", type=Path, default=Path("out/lorenz_inverse"))
    p.add_argument("--quick", action="store_true", help="a smoke test: few steps, small net")
    p.add_argument("--no-progress", action="store_true")
    args = pk.cli.resolve_options(p, p.parse_args(argv), DEFAULTS, QUICK, positive_finite=("data_weight",))
    if args.observations < 2:
        p.error("--observations must be at least 2")
    args.out.mkdir(parents=True, exist_ok=True)
    times, values = observations(args.observations)
    trainer = build(args, times, values)
    start = time.perf_counter()
    trainer.fit(args.steps, log_every=max(1, args.steps // 50), progress=not args.no_progress)
    wall = time.perf_counter() - start
    learnt = trainer.parameter_values()
    trainer.save(args.out / "model.pt")
    if not pk.distributed.is_main():  # under torchrun: rank 0 writes the files and reports
        return {}
    plot_history(trainer.history, args.out / "history.png", parameters=tuple(TRUE))
    errors = {k: abs(learnt[k] - TRUE[k]) / TRUE[k] for k in TRUE}
    metrics = {"true": TRUE, "identified": learnt, "relative_errors": errors, "wall_time_s": wall,
               "steps": trainer.step, "observations": args.observations, "seed": args.seed, "dtype": args.dtype,
               "width": args.width, "depth": args.depth, "points": args.points, "data_weight": args.data_weight}
    pk.cli.write_json(args.out / "metrics.json", metrics)
    print(", ".join(f"{k} = {learnt[k]:.4f} (error {errors[k]:.2%})" for k in TRUE) + f" in {wall:.0f} s")
    return metrics


if __name__ == "__main__":
    main()
