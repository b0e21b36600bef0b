"""Burgers' equation with a physics-informed network (Raissi, Perdikaris & Karniadakis, JCP 378, 2019).

    u_t + u u_x = nu u_xx,   x in [-1, 1], t in [0, 1],   nu = 0.01 / pi,
    u(x, 0) = -sin(pi x),    u(-1, t) = u(1, t) = 0.

The solution steepens into a near-shock at x = 0. By default the initial and boundary values are imposed
exactly (``--constraint hard``: u = -sin(pi x) + t (1 - x^2) N(x, t), written as formulas so that the
checkpoint rebuilds itself), the collocation points follow the residual (``--sampler rad``: redrawn every 500
steps from the density |r| / mean|r| + 1, which crowds them at the shock), during Adam and then during the
quasi-Newton phase in float64 as well (its iterations count as steps; the points move between its chunks):
5000 Adam steps, then 8000 iterations of the self-scaled Broyden method (``--quasi-newton ssbroyden``,
:class:`pinnkit.optim.SSBroyden`, a dense inverse Hessian of the 2181 parameters). Seeds 0-4 ended at 2.5e-6,
1.9e-6, 9.4e-7, 1.1e-6 and 2.8e-6 (median 1.9e-6) in 518-664 s each, one thread, another run on the other core
of a 2-core CPU (``benchmarks/burgers_seeds.py -- --quasi-newton ssbroyden``). With L-BFGS instead
(``--quasi-newton lbfgs``, the previous default) they ended at 6.8e-4, 5.0e-4, 6.6e-4, 1.14e-3 and 8.4e-4 in
181-188 s each. Keeping the points moving is what made L-BFGS reliable: with the points frozen after Adam it
converged to a visibly wrong shock on one seed in five (relative error 1.5e-2).
``--constraint soft --sampler fixed`` is the textbook PINN (initial and boundary losses, one fixed Sobol point
set). The relative L2 error is measured against the exact (Cole-Hopf)
solution on the 256 x 100 grid of the reference data.

Outputs in ``--out DIR``: ``model.pt`` (``pinnkit.load(DIR / "model.pt").predict(X)``), ``metrics.json``
(relative L2 error, wall time, steps, parameter count, settings), ``solution.npz`` (grid, prediction,
reference), ``history.png`` and ``solution.png``.

Run ``python examples/burgers.py --out out/burgers`` (``--quick`` for a smoke test of a few seconds).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

import pinnkit as pk
from pinnkit.pde.references import burgers_exact_grid
from pinnkit.plotting import plot_history, plot_solution

NU = 0.01 / math.pi
DEFAULTS = {"adam": 5_000, "lbfgs": 8_000, "points": 2540, "width": 20, "depth": 6, "period": 500}
KEYS = {"steps": "adam", "lbfgs_steps": "lbfgs"}  # the options whose DEFAULTS / QUICK entries have other names
QUICK = {"adam": 200, "lbfgs": 50, "points": 500, "width": 16, "depth": 2, "period": 100}


def burgers(f):
    """Residual of Burgers' equation."""
    return f.u_t + f.u * f.u_x - NU * f.u_xx


def build_problem(n_boundary: int = 200, n_initial: int = 400, constraint: str = "soft") -> pk.Problem:
    """Burgers' problem; with ``constraint="hard"`` the network satisfies the conditions, so there are none."""
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    if constraint == "hard":
        return pk.Problem(domain, burgers, outputs="u")
    return pk.Problem(domain, burgers, outputs="u", conditions=[
        pk.DirichletBC(domain.boundary, 0.0, n=n_boundary),
        pk.InitialCondition(lambda x: -torch.sin(math.pi * x[:, :1]), n=n_initial),
    ])


def build_net(domain, width: int, depth: int, constraint: str) -> torch.nn.Module:
    """An MLP on the scaled inputs; ``"hard"``: ``u = -sin(pi x) + t (1 - x^2) N``, exact at t = 0 and x = +-1."""
    net = pk.nets.MLP(2, 1, width=width, depth=depth, input_bounds=domain.bbox)
    if constraint == "soft":
        return net
    return pk.nets.HardConstraint(net, pk.nets.Expression("-sin(pi*x)", domain.names),
                                  pk.nets.Expression("t*(1 - x**2)", domain.names))


def build_sampler(name: str, points: int, period: int) -> pk.sampling.Sampler:
    """The sampler ``name``; ``"rad"`` redraws every ``period`` steps (Adam steps or L-BFGS iterations)."""
    if name == "rad":
        return pk.sampling.RAD(points, period=period)
    return pk.sampling.sampler(name, points)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    pk.cli.add_common_options(p, ("steps", "lbfgs_steps", "quasi_newton", "rba", "points", "width", "depth", "lr"),
                              DEFAULTS, quasi_newton={"default": "ssbroyden"},
                              keys=KEYS)
    p.add_argument("--constraint", choices=("hard", "soft"), default="hard",
                   help="hard: initial and boundary values exact by construction (default); soft: as loss terms")
    p.add_argument("--sampler", choices=sorted(pk.sampling.SAMPLERS), default="rad",
                   help="collocation points: rad (residual-based, default), fixed (one Sobol set), r3, ...")
    p.add_argument("--period", type=int, default=None, help=f"steps (Adam steps or L-BFGS iterations) between "
                   f"redraws of the rad sampler (default {DEFAULTS['period']})")
    pk.cli.add_common_options(p, ("backend",))
    p.add_argument("--compile", action="store_true", help="with --backend taylor: compile the network's jet pass "
                   "(torch.compile; about half the step time of autograd here after a one-off compilation)")
    pk.cli.add_common_options(p, ("seed", "device", "dtype", "out", "quick", "no_progress"),
                              out={"default": Path("out/burgers")})
    return pk.cli.resolve_options(p, p.parse_args(argv), DEFAULTS, QUICK, keys=KEYS)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(args.seed)

    problem = build_problem(constraint=args.constraint)
    x, t, u_ref = burgers_exact_grid()  # (256,), (100,), (256, 100)
    grid = np.stack(np.meshgrid(x, t, indexing="ij"), axis=-1).reshape(-1, 2)
    net = build_net(problem.domain, args.width, args.depth, args.constraint)
    sampler = build_sampler(args.sampler, args.points, args.period)
    backend = pk.Backend(args.backend, compile=args.compile)
    trainer = pk.Trainer(problem, net, sampler=sampler, lr=args.lr, backend=backend, device=args.device,
                         dtype=dtype, seed=args.seed, reference=(grid, u_ref.reshape(-1, 1)),
                         weighting=pk.weighting.ResidualAttention() if args.rba else None)
    wall, _ = pk.cli.timed_fit(trainer, args.steps, args.lbfgs_steps, progress=not args.no_progress,
                               quasi_newton=args.quasi_newton)

    u_pred = trainer.predict(grid)[:, 0].reshape(u_ref.shape)
    error = pk.metrics.l2_relative_error(u_pred, u_ref)
    trainer.save(args.out / "model.pt")
    if not pk.distributed.is_main():  # under torchrun: rank 0 writes the files and reports
        return {}
    np.savez(args.out / "solution.npz", x=x, t=t, u_pred=u_pred, u_ref=u_ref)
    metrics = {
        "l2_relative_error": error,
        "max_abs_error": pk.metrics.max_abs_error(u_pred, u_ref),
        **pk.cli.run_metrics(trainer, net, args, wall),
        "compile": args.compile,
        "constraint": args.constraint, "sampler": args.sampler, "period": args.period,
        "points": args.points, "width": args.width, "depth": args.depth, "lr": args.lr,
        "final_loss": trainer.history[-1]["loss"],
    }
    pk.cli.write_json(args.out / "metrics.json", metrics)
    plot_history(trainer.history, args.out / "history.png")
    plot_solution(x, t, u_pred, u_ref, args.out / "solution.png")
    print(f"relative L2 error {error:.3e} after {trainer.step} steps in {wall:.1f} s "
          f"({metrics['parameters']} parameters); wrote {args.out}/")
    if trainer.stop_reason:
        print(trainer.stop_reason)
    return metrics


if __name__ == "__main__":
    main()
