"""Where the PDE is evaluated, measured on DeepXDE's Poisson 1-D demo, side by side with DeepXDE in one run.

DeepXDE's demo ``poisson_1d_dirichlet``: ``-u'' = pi^2 sin(pi x)`` on ``[-1, 1]``, ``u(-1) = u(1) = 0``, exact
``u = sin(pi x)``; 16 domain points (Hammersley) and 2 boundary points, an FNN [1, 50, 50, 50, 1] with tanh and
Glorot-uniform weights, Adam at lr 1e-3 for 10000 steps in float32. DeepXDE evaluates the PDE at its boundary
points as well as at its domain points; pinnkit at the sampler's points only. Three runs per seed:

* ``pinnkit interior``: ``examples/poisson_1d.py`` as it ships, ``FixedPoints(16, "hammersley")`` (the PDE at
  the 16 interior points);
* ``pinnkit + ends``: the same with ``--ends``, ``GivenPoints(ends, FixedPoints(16, "hammersley"))`` (DeepXDE's
  18 points);
* ``deepxde``: the demo as DeepXDE ships it (PyTorch backend).

    python benchmarks/poisson_1d_points.py --seeds 0 1 2 3 4 5 --json poisson_1d_points.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time

import numpy as np
import torch

try:
    from benchmarks._deepxde import import_deepxde, poisson_1d_demo
    from benchmarks._examples import load_example, write_report
except ImportError:  # run as a script from the benchmarks directory
    from _deepxde import import_deepxde, poisson_1d_demo
    from _examples import load_example, write_report

STEPS, LR, WIDTH, DEPTH = 10000, 1e-3, 50, 3


def pinnkit_run(example, seed: int, ends: bool, steps: int) -> dict:
    args = argparse.Namespace(seed=seed, ends=ends, width=WIDTH, depth=DEPTH, points=16, dtype="float32",
                              device="cpu", rba=False)
    trainer = example.build(args)
    x = example.TEST_POINTS
    start = time.perf_counter()
    trainer.fit(steps, progress=False, log_every=steps)
    wall = time.perf_counter() - start
    error = float(np.linalg.norm(trainer.predict(x) - example.exact(x)) / np.linalg.norm(example.exact(x)))
    return {"error": error, "wall_s": wall, "parameters": sum(p.numel() for p in trainer.net.parameters())}


def deepxde_run(dde, example, seed: int, steps: int) -> dict:
    data, net = poisson_1d_demo(dde, seed, WIDTH, DEPTH)
    model = dde.Model(data, net)
    with contextlib.redirect_stdout(io.StringIO()):
        model.compile("adam", lr=LR)
    start = time.perf_counter()
    model.train(iterations=steps, display_every=steps, verbose=0)
    wall = time.perf_counter() - start
    x = example.TEST_POINTS
    error = float(np.linalg.norm(model.predict(x) - example.exact(x)) / np.linalg.norm(example.exact(x)))
    return {"error": error, "wall_s": wall, "parameters": sum(p.numel() for p in net.parameters())}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    p.add_argument("--steps", type=int, default=STEPS)
    p.add_argument("--json", default=None, metavar="PATH")
    args = p.parse_args(argv)
    example = load_example("poisson_1d")
    runs: dict[str, list[dict]] = {"pinnkit interior": [], "pinnkit + ends": [], "deepxde": []}
    for seed in args.seeds:
        runs["pinnkit interior"].append(pinnkit_run(example, seed, False, args.steps))
        runs["pinnkit + ends"].append(pinnkit_run(example, seed, True, args.steps))
    dde = import_deepxde()
    if dde is not None:
        for seed in args.seeds:
            runs["deepxde"].append(deepxde_run(dde, example, seed, args.steps))
    else:
        del runs["deepxde"]
    print(f"float32, {torch.get_num_threads()} threads, {args.steps} Adam steps, seeds {args.seeds}")
    summary = {}
    for name, rows in runs.items():
        errors = [r["error"] for r in rows]
        summary[name] = {"median_error": statistics.median(errors), "min_error": min(errors),
                         "max_error": max(errors), "median_wall_s": statistics.median(r["wall_s"] for r in rows),
                         "parameters": rows[0]["parameters"], "errors": errors}
        print(f"{name:18s} median {summary[name]['median_error']:.2e}  [{min(errors):.2e}, {max(errors):.2e}]  "
              f"{summary[name]['median_wall_s']:.1f} s/run  {rows[0]['parameters']} parameters")
    out = {"seeds": args.seeds, "steps": args.steps, "threads": torch.get_num_threads(), "precision": "float32",
           "runs": summary}
    return write_report(args.json, out)


if __name__ == "__main__":
    main()
