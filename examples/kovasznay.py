"""Kovasznay flow at Re = 20 with a physics-informed network (steady 2-D incompressible Navier–Stokes).

    (u . grad) u + grad p = (1 / Re) Laplacian u,   div u = 0,   (x, y) in [-0.5, 1] x [-0.5, 1.5],

with the exact velocity (Kovasznay 1948) imposed on the boundary and the pressure fixed by its exact value at
the outflow point (1, 0.5) (a ``PointValue`` gauge condition). The network (u, v, p) is trained with Adam, then
a quasi-Newton method, in float64, and compared with the exact solution on a 151 x 201 grid: relative L2
errors of u and v, and of p up to a constant (both pressures centred on the grid before the comparison).

Defaults: a 3 x 32 tanh MLP, 2000 Sobol collocation points, 300 boundary points per velocity component, Taylor-mode
derivatives (``--backend taylor``: one forward jet pass, 24 ms per L-BFGS iteration on one thread against 44 ms for
ZCS and 60 ms for autograd), 200 Adam steps, then 13000 iterations of the self-scaled Broyden method
(``--quasi-newton ssbroyden``, :class:`pinnkit.optim.SSBroyden`: a dense inverse Hessian of the 2307
parameters, 42 MB). The two boundary terms have the weight
``--boundary-weight`` (default 10): the boundary values are all that fixes the solution, and their errors reach the
interior. With weight 1 the errors after 2000 L-BFGS iterations were u 3.9e-3, v 1.3e-2; with 10, u 2.1e-3, v
6.6e-3 (a 4 x 48 net with weight 10: u 2.6e-3, v 6.0e-3 for 2.2 times the CPU time). v has about a sixth of u's
norm (u is about 1 plus the wake), so its relative error is the larger one.

Measured with the defaults (seed 0, one run): relative L2 errors u 2.3e-8, v 1.3e-7, p 6.8e-8 (up to a constant),
13200 steps, 651 s of CPU time on one thread (718 s wall on this project's 2-core machine, another run on the other
core); the pooled (u, v, p) error the run records passed 1e-5 after 90 s of training, 1e-6 after 211 s and 1e-7
after 471 s. With L-BFGS (``--quasi-newton lbfgs``, the previous default) the same run ends at u 1.6e-4,
v 6.9e-4, p 3.5e-4 in 285 s of CPU time (292 s wall); with L-BFGS and ``--seed 1``: u 1.6e-4, v 8.1e-4, p 5.6e-4
in 300 s of CPU time; with L-BFGS and ``--backend zcs``: u 1.4e-4, v 6.8e-4, p 3.4e-4 in 500 s of CPU time
(that run had v 1.0e-3 after 7000 L-BFGS iterations, 8.4e-4 after 10000 and 6.8e-4 after 13000).

Outputs in ``--out DIR``: ``model.pt`` (``pinnkit.load(DIR / "model.pt").predict(X)``, X with columns x, y),
``metrics.json`` (errors, wall time, steps, settings), ``solution.npz`` (grid, prediction, reference),
``history.png`` and ``solution_u.png``, ``solution_v.png``, ``solution_p.png``.

Run ``python examples/kovasznay.py --out out/kovasznay`` (``--quick`` for a smoke test of a few seconds).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import torch

import pinnkit as pk
from pinnkit.pde.references import KOVASZNAY_DOMAIN, kovasznay_solution
from pinnkit.plotting import plot_history, plot_solution

RE = 20.0
OUTLET_POINT = (1.0, 0.5)
GRID = (151, 201)
DEFAULTS = {"adam": 200, "lbfgs": 13000, "points": 2000, "boundary": 300, "width": 32, "depth": 3,
            "boundary_weight": 10.0}
KEYS = {"steps": "adam", "lbfgs_steps": "lbfgs"}  # the options whose DEFAULTS / QUICK entries have other names
QUICK = {"adam": 100, "lbfgs": 20, "points": 200, "boundary": 80, "width": 16, "depth": 2, "boundary_weight": 10.0}
BOUNDARY_TERMS = ("dirichlet_u_boundary", "dirichlet_v_boundary")


def exact(points: torch.Tensor, column: int) -> torch.Tensor:
    return kovasznay_solution(points, RE)[:, column]


def build_problem(n_boundary: int) -> pk.Problem:
    domain = pk.geometry.Rectangle(*KOVASZNAY_DOMAIN)
    return pk.Problem(domain, pk.pde.equations.navier_stokes(1 / RE), outputs=("u", "v", "p"), conditions=[
        pk.DirichletBC(None, lambda x: exact(x, 0), output="u", n=n_boundary),
        pk.DirichletBC(None, lambda x: exact(x, 1), output="v", n=n_boundary),
        pk.PointValue(OUTLET_POINT, lambda x: exact(x, 2), output="p"),
    ])


def grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x`` (151,), ``y`` (201,) and the points (151 * 201, 2) in ``ij`` order."""
    (x0, y0), (x1, y1) = KOVASZNAY_DOMAIN
    x, y = np.linspace(x0, x1, GRID[0]), np.linspace(y0, y1, GRID[1])
    return x, y, np.stack(np.meshgrid(x, y, indexing="ij"), axis=-1).reshape(-1, 2)


def errors(pred: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """Relative L2 errors of u and v, and of p up to a constant (both pressures centred)."""
    p_pred, p_ref = pred[:, 2] - pred[:, 2].mean(), ref[:, 2] - ref[:, 2].mean()
    return {"u": pk.metrics.l2_relative_error(pred[:, 0], ref[:, 0]),
            "v": pk.metrics.l2_relative_error(pred[:, 1], ref[:, 1]),
            "p": pk.metrics.l2_relative_error(p_pred, p_ref)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    pk.cli.add_common_options(p, ("steps", "lbfgs_steps", "quasi_newton", "rba", "points"), DEFAULTS, keys=KEYS,
                              quasi_newton={"default": "ssbroyden"})
    p.add_argument("--boundary", type=int, default=None, help=f"boundary points per velocity component "
                   f"(default {DEFAULTS['boundary']})")
    p.add_argument("--boundary-weight", type=float, default=None, help="weight of the two boundary velocity terms in "
                   f"the loss (default {DEFAULTS['boundary_weight']:g})")
    pk.cli.add_common_options(p, ("width", "depth", "lr", "backend", "seed", "device", "dtype", "out", "quick",
                                  "no_progress"), DEFAULTS,
                              backend={"default": "taylor"},
                              out={"default": Path("out/kovasznay")})
    return pk.cli.resolve_options(p, p.parse_args(argv), DEFAULTS, QUICK, keys=KEYS, positive=("boundary",),
                                  positive_finite=("boundary_weight",))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(args.seed)

    problem = build_problem(args.boundary)
    x, y, points = grid()
    reference = kovasznay_solution(points, RE)
    net = pk.nets.MLP(2, 3, width=args.width, depth=args.depth, input_bounds=problem.domain.bbox)
    trainer = pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(args.points, "sobol"), lr=args.lr,
                         backend=args.backend, device=args.device, dtype=dtype, seed=args.seed,
                         loss_weights=dict.fromkeys(BOUNDARY_TERMS, args.boundary_weight),
                         reference=(points[::7], reference[::7]),
                         weighting=pk.weighting.ResidualAttention() if args.rba else None)
    wall, cpu = pk.cli.timed_fit(trainer, args.steps, args.lbfgs_steps, progress=not args.no_progress,
                                 quasi_newton=args.quasi_newton)

    pred = trainer.predict(points)
    err = errors(pred, reference)
    trainer.save(args.out / "model.pt")
    if not pk.distributed.is_main():  # under torchrun: rank 0 writes the files and reports
        return {}
    shape = (len(x), len(y), 3)
    np.savez(args.out / "solution.npz", x=x, y=y, pred=pred.reshape(shape), ref=reference.reshape(shape))
    metrics = {
        "l2_relative_error_u": err["u"], "l2_relative_error_v": err["v"], "l2_relative_error_p": err["p"],
        "max_abs_error_u": pk.metrics.max_abs_error(pred[:, 0], reference[:, 0]),
        "max_abs_error_v": pk.metrics.max_abs_error(pred[:, 1], reference[:, 1]),
        **pk.cli.run_metrics(trainer, net, args, wall, cpu),
        "points": args.points, "boundary": args.boundary,
        "boundary_weight": args.boundary_weight, "width": args.width, "depth": args.depth, "lr": args.lr,
        "reynolds": RE, "grid": list(GRID), "final_loss": trainer.history[-1]["loss"],
    }
    pk.cli.write_json(args.out / "metrics.json", metrics)
    plot_history(trainer.history, args.out / "history.png")
    for k, name in enumerate(("u", "v", "p")):
        p_k, r_k = pred[:, k].reshape(shape[:2]), reference[:, k].reshape(shape[:2])
        if name == "p":
            p_k, r_k = p_k - p_k.mean(), r_k - r_k.mean()
        plot_solution(y, x, p_k.T, r_k.T, args.out / f"solution_{name}.png", labels=("y", "x"), name=name)
    print(f"relative L2 error u {err['u']:.3e}, v {err['v']:.3e}, p {err['p']:.3e} (up to a constant) after "
          f"{trainer.step} steps in {wall:.1f} s (CPU {cpu:.1f} s, {metrics['parameters']} parameters); "
          f"wrote {args.out}/")
    if trainer.stop_reason:
        print(trainer.stop_reason)
    return metrics


if __name__ == "__main__":
    main()
