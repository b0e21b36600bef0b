"""The Lorenz inverse demo, pinnkit (``examples/lorenz_inverse.py``) and DeepXDE side by side in one run.

Both get the same 25 observations (scipy's DOP853 solution, see the example), the same network shape (1 -> 40 x 3
-> 3, tanh, Glorot uniform), the same points (400 Hammersley, the two ends and the observation times as anchors),
Adam at lr 1e-3 for ``--steps`` (20000) steps in float32, coefficients started at 1. Three runs per seed:

* ``pinnkit``: the example as it ships (the observations' loss sums the three outputs' mean squares);
* ``pinnkit, data mean over outputs``: the same with the observations' weight 1/3, which is what pinnkit's
  earlier convention (one mean over all N x 3 entries) gave;
* ``deepxde``: DeepXDE's demo (PyTorch backend), three ``PointSetBC`` objects.

    python benchmarks/lorenz_inverse.py --seeds 0 1 2 --json lorenz_inverse.json
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
    from benchmarks._deepxde import import_deepxde
    from benchmarks._examples import load_example, write_report
except ImportError:  # run as a script from the benchmarks directory
    from _deepxde import import_deepxde
    from _examples import load_example, write_report


def pinnkit_run(example, seed: int, steps: int, data_weight: float) -> dict:
    args = argparse.Namespace(seed=seed, width=40, depth=3, points=400, dtype="float32", device="cpu",
                              data_weight=data_weight)
    times, values = example.observations(25)
    trainer = example.build(args, times, values)
    start = time.perf_counter()
    trainer.fit(steps, progress=False, log_every=steps)
    return {"C": trainer.parameter_values(), "wall_s": time.perf_counter() - start,
            "parameters": sum(p.numel() for p in trainer.net.parameters())}


def deepxde_run(dde, example, seed: int, steps: int) -> dict:
    dde.config.set_random_seed(seed)
    c = [dde.Variable(1.0) for _ in range(3)]

    def system(t, u):
        x, y, z = u[:, 0:1], u[:, 1:2], u[:, 2:]
        return [dde.grad.jacobian(u, t, i=0) - c[0] * (y - x),
                dde.grad.jacobian(u, t, i=1) - x * (c[1] - z) + y,
                dde.grad.jacobian(u, t, i=2) - x * y + c[2] * z]

    geom = dde.geometry.TimeDomain(0, example.T1)
    times, values = example.observations(25)

    def boundary(_, on_initial):
        return on_initial

    def constant(value):
        return lambda t: np.full((len(t), 1), value)

    ics = [dde.icbc.IC(geom, constant(v), boundary, component=i) for i, v in enumerate(example.START)]
    observed = [dde.icbc.PointSetBC(times, values[:, i:i + 1], component=i) for i in range(3)]
    data = dde.data.PDE(geom, system, ics + observed, num_domain=400, num_boundary=2, anchors=times)
    net = dde.nn.FNN([1] + [40] * 3 + [3], "tanh", "Glorot uniform")
    model = dde.Model(data, net)
    with contextlib.redirect_stdout(io.StringIO()):
        model.compile("adam", lr=1e-3, external_trainable_variables=c)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        model.train(iterations=steps, display_every=steps, verbose=0)
    wall = time.perf_counter() - start
    return {"C": {f"C{i + 1}": float(v.detach()) for i, v in enumerate(c)}, "wall_s": wall,
            "parameters": sum(p.numel() for p in net.parameters())}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--json", default=None, metavar="PATH")
    args = p.parse_args(argv)
    example = load_example("lorenz_inverse")
    runs: dict[str, list[dict]] = {"pinnkit": [], "pinnkit, data mean over outputs": [], "deepxde": []}
    for seed in args.seeds:
        runs["pinnkit"].append(pinnkit_run(example, seed, args.steps, 1.0))
        runs["pinnkit, data mean over outputs"].append(pinnkit_run(example, seed, args.steps, 1.0 / 3.0))
    dde = import_deepxde()
    if dde is None:
        del runs["deepxde"]
    else:
        for seed in args.seeds:
            runs["deepxde"].append(deepxde_run(dde, example, seed, args.steps))
    print(f"float32, {torch.get_num_threads()} threads, {args.steps} Adam steps, seeds {args.seeds}; "
          f"true C1 = 10, C2 = 15, C3 = 8/3")
    summary = {}
    for name, rows in runs.items():
        errors = {k: [abs(r["C"][k] - v) / v for r in rows] for k, v in example.TRUE.items()}
        summary[name] = {"C": [r["C"] for r in rows], "relative_errors": errors,
                         "median_wall_s": statistics.median(r["wall_s"] for r in rows),
                         "parameters": rows[0]["parameters"]}
        cells = "  ".join(f"{k} {statistics.median(e):.2%} [{min(e):.2%}, {max(e):.2%}]" for k, e in errors.items())
        print(f"{name:32s} {cells}  {summary[name]['median_wall_s']:.0f} s/run")
    out = {"seeds": args.seeds, "steps": args.steps, "threads": torch.get_num_threads(), "precision": "float32",
           "runs": summary}
    return write_report(args.json, out)


if __name__ == "__main__":
    main()
