"""Poisson's equation in 1-D with Dirichlet values: DeepXDE's ``poisson_1d_dirichlet`` demo, ported line for line.

    -u'' = pi^2 sin(pi x)  on [-1, 1],   u(-1) = u(1) = 0,   exact solution u = sin(pi x).

The demo's set-up: 16 collocation points (Hammersley) plus DeepXDE's ``num_boundary=2`` (the PDE is evaluated at
the two ends as well, ``--ends``; off by default, see the README's measurement), the Dirichlet condition at both
ends (``DirichletBC()``: on an interval its default ``n`` is the two end points), an MLP 1 -> 50 x 3 -> 1 with
tanh and Glorot-uniform weights, Adam at lr 1e-3 for 10000 steps in float32; ``--lbfgs-steps`` adds L-BFGS
(or the method ``--quasi-newton`` names). The frontier recipe, in float64 with a self-scaled Broyden method::

    python examples/poisson_1d.py --dtype float64 --width 30 --depth 2 --points 64 --steps 1000 \
        --lbfgs-steps 2000 --quasi-newton ssbroyden

Outputs in ``--out DIR``: ``metrics.json`` (relative L2 error on 100 equally spaced points, wall time, steps),
``model.pt``, ``history.png`` and ``solution.png``. ``benchmarks/poisson_1d_points.py`` runs this and DeepXDE's
demo side by side.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

import pinnkit as pk
from pinnkit.plotting import plot_history

DEFAULTS = {"steps": 10000, "lbfgs_steps": 0, "width": 50, "depth": 3, "points": 16}
QUICK = {"steps": 200, "lbfgs_steps": 0, "width": 16, "depth": 2, "points": 16}
TEST_POINTS = np.linspace(-1, 1, 100)[:, None]  # where the error is measured, (100, 1)


def exact(x: np.ndarray) -> np.ndarray:
    """``sin(pi x)`` of points (n, 1)."""
    return np.sin(np.pi * x)


def build(args: argparse.Namespace) -> pk.Trainer:
    """The trainer of the demo's set-up (module docstring)."""
    domain = pk.geometry.Interval(-1, 1)
    problem = pk.Problem(domain, lambda f: -f.u_xx - math.pi ** 2 * torch.sin(math.pi * f.x),
                         conditions=[pk.DirichletBC()])
    sampler = pk.sampling.FixedPoints(args.points, "hammersley")
    if args.ends:
        sampler = pk.sampling.GivenPoints(domain.boundary.sample(2), sampler)
    torch.manual_seed(args.seed)
    net = pk.nets.MLP(1, 1, width=args.width, depth=args.depth, init="glorot_uniform")
    return pk.Trainer(problem, net, sampler=sampler, lr=1e-3, dtype=getattr(torch, args.dtype),
                      device=args.device, seed=args.seed, reference=(TEST_POINTS, exact(TEST_POINTS)),
                      weighting=pk.weighting.ResidualAttention() if args.rba else None)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=None, help=f"Adam steps (default {DEFAULTS['steps']})")
    p.add_argument("--lbfgs-steps", type=int, default=None, help="quasi-Newton iterations after Adam (default 0)")
    pk.cli.add_common_options(p, ("quasi_newton", "rba"))
    p.add_argument("--width", type=int, default=None)
    p.add_argument("--depth", type=int, default=None)
    p.add_argument("--points", type=int, default=None, help="interior collocation points (16)")
    p.add_argument("--ends", action="store_true", help="the PDE at the interval's ends too (DeepXDE's points)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--out", type=Path, default=Path("out/poisson_1d"))
    p.add_argument("--quick", action="store_true", help="a smoke test: few steps, small net")
    p.add_argument("--no-progress", action="store_true")
    args = pk.cli.resolve_options(p, p.parse_args(argv), DEFAULTS, QUICK)
    args.out.mkdir(parents=True, exist_ok=True)
    trainer = build(args)
    wall, _ = pk.cli.timed_fit(trainer, args.steps, args.lbfgs_steps, progress=not args.no_progress,
                               quasi_newton=args.quasi_newton)
    x = TEST_POINTS
    u = trainer.predict(x)
    error = float(np.linalg.norm(u - exact(x)) / np.linalg.norm(exact(x)))
    trainer.save(args.out / "model.pt")
    if not pk.distributed.is_main():  # under torchrun: rank 0 writes the files and reports
        return {}
    plot_history(trainer.history, args.out / "history.png")
    pk.plotting.plot_lines(x[:, 0], {"pinnkit": u[:, 0], "exact": exact(x)[:, 0]}, args.out / "solution.png",
                           xlabel="x", ylabel="u")
    metrics = {"l2_relative_error": error, "wall_time_s": wall, "steps": trainer.step, "seed": args.seed,
               "dtype": args.dtype, "width": args.width, "depth": args.depth, "points": args.points,
               "ends": args.ends, "quasi_newton": args.quasi_newton, "rba": args.rba,
               "lbfgs_stop_reason": trainer.stop_reason,
               "parameters": sum(q.numel() for q in trainer.net.parameters()),
               "error_curve": pk.cli.error_curve(trainer.history)}
    pk.cli.write_json(args.out / "metrics.json", metrics)
    print(f"relative L2 error {error:.3e} after {trainer.step} steps in {wall:.1f} s")
    return metrics


if __name__ == "__main__":
    main()
