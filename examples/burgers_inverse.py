"""Identify the coefficients of Burgers' equation from scattered observations (Raissi et al., JCP 378, 2019).

    u_t + lambda1 u u_x - nu u_xx = 0,   true values lambda1 = 1, nu = 0.01 / pi.

Observations: ``--observations`` (2000) points drawn at random from the 256 x 100 grid of the exact solution,
optionally with Gaussian noise of standard deviation ``noise * std(u)``. The network fits the data and the
PDE residual at the same points; ``lambda1`` and ``nu`` are trainable PDE parameters (``nu = exp(log_nu)``
keeps it positive). Each noise level in ``--noise`` (default ``0 0.01``: clean and 1 %) is a separate run.

Outputs in ``--out DIR``: ``metrics.json`` (identified values and relative errors per noise level, wall
time, steps), ``model_noise<level>.pt`` and ``history_noise<level>.png``.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import pinnkit as pk
from pinnkit.pde.references import burgers_exact_grid
from pinnkit.plotting import plot_history

NU = 0.01 / math.pi
DEFAULTS = {"adam": 3000, "lbfgs": 6000, "width": 20, "depth": 6}
KEYS = {"steps": "adam", "lbfgs_steps": "lbfgs"}  # the options whose DEFAULTS / QUICK entries have other names
QUICK = {"adam": 100, "lbfgs": 20, "width": 8, "depth": 2}


def residual(f):
    return f.u_t + f.lambda1 * f.u * f.u_x - torch.exp(f.log_nu) * f.u_xx


def observations(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    x, t, u = burgers_exact_grid()
    rng = np.random.default_rng(seed)
    idx = rng.choice(u.size, n, replace=False)
    xi, ti = np.unravel_index(idx, u.shape)
    points = np.stack([x[xi], t[ti]], axis=1)
    values = u[xi, ti] + noise * u.std() * rng.standard_normal(n)
    return points, values[:, None]


def identify(noise: float, args: argparse.Namespace) -> dict[str, Any]:
    torch.manual_seed(args.seed)
    points, values = observations(args.observations, noise, args.seed)
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    problem = pk.Problem(domain, residual, outputs="u", parameters={"lambda1": 0.0, "log_nu": -6.0},
                         conditions=[pk.ObservedData(points, values)])
    net = pk.nets.MLP(2, 1, width=args.width, depth=args.depth, input_bounds=domain.bbox)
    trainer = pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(args.observations, "sobol"),
                         dtype=getattr(torch, args.dtype), device=args.device, seed=args.seed)
    start = time.perf_counter()
    trainer.fit(args.steps, log_every=max(1, args.steps // 10), progress=not args.no_progress)
    if args.lbfgs_steps:
        trainer.fit(args.lbfgs_steps, optimizer="lbfgs", log_every=500, progress=not args.no_progress)
    wall = time.perf_counter() - start
    learnt = trainer.parameter_values()  # the trained PDE parameters as floats (the problem keeps the initial ones)
    lambda1, nu = learnt["lambda1"], math.exp(learnt["log_nu"])
    tag = f"{noise:g}"
    trainer.save(args.out / f"model_noise{tag}.pt")
    if pk.distributed.is_main():
        plot_history(trainer.history, args.out / f"history_noise{tag}.png", parameters=("lambda1", "log_nu"))
    return {"noise": noise, "lambda1": lambda1, "nu": nu, "lambda1_relative_error": abs(lambda1 - 1.0),
            "nu_relative_error": abs(nu - NU) / NU, "wall_time_s": wall, "steps": trainer.step,
            "lbfgs_stop_reason": trainer.stop_reason}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.01], help="noise levels (fraction of std u)")
    p.add_argument("--observations", type=int, default=2000)
    p.add_argument("--steps", type=int, default=None, help=f"Adam steps (default {DEFAULTS['adam']})")
    p.add_argument("--lbfgs-steps", type=int, default=None, help=f"L-BFGS iterations (default {DEFAULTS['lbfgs']})")
    p.add_argument("--width", type=int, default=None)
    p.add_argument("--depth", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    p.add_argument("--out", type=Path, default=Path("out/burgers_inverse"))
    p.add_argument("--quick", action="store_true", help="a smoke test: few steps, small net")
    p.add_argument("--no-progress", action="store_true")
    args = pk.cli.resolve_options(p, p.parse_args(argv), DEFAULTS, QUICK, keys=KEYS)
    if any(level < 0 for level in args.noise):
        p.error("--noise levels must be >= 0")
    args.out.mkdir(parents=True, exist_ok=True)
    runs = [identify(level, args) for level in args.noise]
    if not pk.distributed.is_main():  # under torchrun: rank 0 writes the files and reports
        return {}
    metrics = {"true": {"lambda1": 1.0, "nu": NU}, "runs": runs, "observations": args.observations,
               "seed": args.seed, "dtype": args.dtype, "width": args.width, "depth": args.depth}
    pk.cli.write_json(args.out / "metrics.json", metrics)
    for r in runs:
        print(f"noise {r['noise']:.0%}: lambda1 = {r['lambda1']:.5f} (error {r['lambda1_relative_error']:.2%}), "
              f"nu = {r['nu']:.6f} (error {r['nu_relative_error']:.2%}) in {r['wall_time_s']:.0f} s")
    return metrics


if __name__ == "__main__":
    main()
