"""3-D Beltrami flow (Ethier & Steinman 1994) with a physics-informed network: unsteady 3-D Navier–Stokes.

    u_t + (u . grad) u + grad p = nu Laplacian u,   div u = 0,   (x, y, z, t) in [-1, 1]^3 x [0, 1],

with a = d = 1 and nu = 1 (the setting of NSFnets, Jin et al. 2021). The exact velocity is imposed on the cube's
faces for all t and at t = 0; the pressure is fixed by its exact value at the centre of the cube (a
``PointValue`` gauge condition). The network (u, v, w, p) is trained with Adam, then L-BFGS, in float64, and
compared with the exact solution on a 21^3 grid at t = 0, 0.25, 0.5, 0.75, 1 (relative L2 errors of u, v, w,
and of p up to a constant per time level).

Defaults: a 3 x 32 tanh MLP, 1000 Sobol collocation points, 300 boundary and 150 initial points per velocity
component, Taylor-mode derivatives (``--backend taylor``, one forward jet pass), 500 Adam steps, then 6000 L-BFGS
iterations. Measured with the defaults (seed 0, one run, one thread on this project's 2-core machine): relative
L2 errors u 6.4e-3, v 6.5e-3, w 5.3e-3, p 4.2e-2 (up to a constant) in 213 s (``--seed 1``: u 5.0e-3,
v 4.4e-3, w 4.8e-3 in 233 s); with ``--backend zcs`` (the
previous default) u 6.0e-3, v 6.4e-3, w 5.4e-3 in 377 s.

Outputs in ``--out DIR``: ``model.pt`` (``pinnkit.load(DIR / "model.pt").predict(X)``, X with columns x, y, z,
t), ``metrics.json`` (errors, wall time, steps, settings), ``solution.npz`` (the slice z = 0 at t = 1:
grid, prediction, reference), ``history.png`` and ``solution_u.png``, ``solution_v.png``, ``solution_w.png``
(that slice).

Run ``python examples/beltrami.py --out out/beltrami`` (``--quick`` for a smoke test of a few seconds).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import torch

import pinnkit as pk
from pinnkit.pde.references import beltrami_solution
from pinnkit.plotting import plot_history, plot_solution

NU = 1.0
TIMES = (0.0, 0.25, 0.5, 0.75, 1.0)
SIDE = 21
DEFAULTS = {"adam": 500, "lbfgs": 6000, "points": 1000, "boundary": 300, "initial": 150, "width": 32, "depth": 3}
KEYS = {"steps": "adam", "lbfgs_steps": "lbfgs"}  # the options whose DEFAULTS / QUICK entries have other names
QUICK = {"adam": 60, "lbfgs": 10, "points": 200, "boundary": 100, "initial": 50, "width": 16, "depth": 2}


def exact(points: torch.Tensor, column: int) -> torch.Tensor:
    return beltrami_solution(points, NU)[:, column]


def build_problem(n_boundary: int, n_initial: int) -> pk.Problem:
    cube = pk.geometry.Cuboid([-1, -1, -1], [1, 1, 1])
    domain = cube * pk.geometry.TimeDomain(0, 1)
    conditions: list[pk.pde.Condition] = []
    for k, name in enumerate(("u", "v", "w")):
        conditions.append(pk.DirichletBC(cube.boundary, lambda x, k=k: exact(x, k), output=name, n=n_boundary))
        conditions.append(pk.InitialCondition(lambda x, k=k: exact(x, k), output=name, n=n_initial))
    conditions.append(pk.PointValue((0.0, 0.0, 0.0), lambda x: exact(x, 3), output="p"))
    return pk.Problem(domain, pk.pde.equations.navier_stokes(NU, dim=3, steady=False), outputs=("u", "v", "w", "p"),
                      conditions=conditions)


def test_points() -> np.ndarray:
    """The 21^3 grid at each of TIMES: (5 * 21^3, 4), time slowest."""
    s = np.linspace(-1, 1, SIDE)
    space = np.stack(np.meshgrid(s, s, s, indexing="ij"), axis=-1).reshape(-1, 3)
    return np.concatenate([np.concatenate([space, np.full((len(space), 1), t)], axis=1) for t in TIMES])


def errors(pred: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """Relative L2 errors of u, v, w; of p after removing each time level's mean from both pressures."""
    out = {name: pk.metrics.l2_relative_error(pred[:, k], ref[:, k]) for k, name in enumerate("uvw")}
    p_pred, p_ref = (a[:, 3].reshape(len(TIMES), -1) for a in (pred, ref))
    out["p"] = pk.metrics.l2_relative_error(p_pred - p_pred.mean(axis=1, keepdims=True),
                                            p_ref - p_ref.mean(axis=1, keepdims=True))
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    pk.cli.add_common_options(p, ("steps", "lbfgs_steps", "points"), DEFAULTS, keys=KEYS)
    p.add_argument("--boundary", type=int, default=None, help=f"boundary points per velocity component "
                   f"(default {DEFAULTS['boundary']})")
    p.add_argument("--initial", type=int, default=None, help=f"initial points per velocity component "
                   f"(default {DEFAULTS['initial']})")
    pk.cli.add_common_options(p, ("width", "depth", "lr", "backend", "seed", "device", "dtype", "out", "quick",
                                  "no_progress"), DEFAULTS,
                              backend={"default": "taylor"},
                              out={"default": Path("out/beltrami")})
    return pk.cli.resolve_options(p, p.parse_args(argv), DEFAULTS, QUICK, keys=KEYS, positive=("boundary", "initial"))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(args.seed)

    problem = build_problem(args.boundary, args.initial)
    points = test_points()
    reference = beltrami_solution(points, NU)
    net = pk.nets.MLP(4, 4, width=args.width, depth=args.depth, input_bounds=problem.domain.bbox)
    trainer = pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(args.points, "sobol"), lr=args.lr,
                         backend=args.backend, device=args.device, dtype=dtype, seed=args.seed,
                         reference=(points[::23], reference[::23]))
    wall, _ = pk.cli.timed_fit(trainer, args.steps, args.lbfgs_steps, progress=not args.no_progress)

    pred = trainer.predict(points)
    err = errors(pred, reference)
    trainer.save(args.out / "model.pt")
    if not pk.distributed.is_main():  # under torchrun: rank 0 writes the files and reports
        return {}
    s = np.linspace(-1, 1, SIDE)
    last = slice((len(TIMES) - 1) * SIDE**3, None)  # t = 1
    at_slice = (points[last, 2] == 0.0)
    shape = (SIDE, SIDE, 4)
    pred_slice, ref_slice = pred[last][at_slice].reshape(shape), reference[last][at_slice].reshape(shape)
    np.savez(args.out / "solution.npz", x=s, y=s, z=0.0, t=1.0, pred=pred_slice, ref=ref_slice)
    metrics = {
        **{f"l2_relative_error_{k}": v for k, v in err.items()},
        "max_abs_error_velocity": pk.metrics.max_abs_error(pred[:, :3], reference[:, :3]),
        **pk.cli.run_metrics(trainer, net, args, wall),
        "points": args.points, "boundary": args.boundary, "initial": args.initial, "width": args.width,
        "depth": args.depth, "lr": args.lr, "nu": NU, "test_grid": [SIDE, SIDE, SIDE, len(TIMES)],
        "final_loss": trainer.history[-1]["loss"],
    }
    pk.cli.write_json(args.out / "metrics.json", metrics)
    plot_history(trainer.history, args.out / "history.png")
    for k, name in enumerate("uvw"):
        plot_solution(s, s, pred_slice[:, :, k].T, ref_slice[:, :, k].T, args.out / f"solution_{name}.png",
                      labels=("y", "x"), name=f"{name} (z = 0, t = 1)")
    print(f"relative L2 error u {err['u']:.3e}, v {err['v']:.3e}, w {err['w']:.3e}, p {err['p']:.3e} (up to a "
          f"constant) after {trainer.step} steps in {wall:.1f} s ({metrics['parameters']} parameters); "
          f"wrote {args.out}/")
    if trainer.stop_reason:
        print(trainer.stop_reason)
    return metrics


if __name__ == "__main__":
    main()
