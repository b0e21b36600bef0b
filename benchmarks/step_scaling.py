"""How the cost of a PINN step grows: seconds per Adam step and peak memory against the number of points, the
network's width and the derivative order, for every derivative engine.

The problem is ``sum_j d^k u / dx_j^k = 0`` plus a Dirichlet condition on the unit square (order ``k`` from
``--orders``; the point sweep and the width sweep use ``k = 2``, a Laplacian), an MLP of depth 3 with tanh,
float32, Adam. Three sweeps, each engine of ``--engines`` at every value:

* points: ``--points`` (default 1k to 64k) at width 20;
* width: ``--widths`` (default 20 to 256) at 4096 points;
* order: ``--orders`` (default 1 to 4) at 4096 points and width 20.

Every configuration runs in a fresh interpreter (``--measure``), so that its peak memory is its own: on the CPU
the growth of the resident set (``ru_maxrss``) over the timed steps beyond what the set-up left, on CUDA
``torch.cuda.max_memory_allocated``. The report gives, per sweep and engine, the fitted exponent ``p`` of
``time ~ n^p`` (least squares in log-log over the two largest thirds of the sweep: the smallest sizes are
overhead-bound), and a log-log figure. Growth worse than linear in the points (``p`` clearly above 1) is what the
issue calls a defect.

On the CPU the resident set's high-water mark is usually reached in the warm-up, so its growth over the timed
steps is mostly 0 and says little. Every configuration therefore also reports the memory one step keeps for its
backward pass (``saved_bytes``: the distinct storages of the tensors autograd saves, counted by a
``torch.autograd.graph.saved_tensors_hooks`` pack hook in one extra step; compiled graphs save theirs through the
same hook), the activation memory that grows with the points, and its fitted exponent.

``python benchmarks/step_scaling.py --json step_scaling.json --png step_scaling.png`` (about 10 minutes on two
CPU cores; ``--device cuda`` on a GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np
import torch

import pinnkit as pk

ENGINES = ("autograd", "zcs", "taylor", "taylor-compiled")


def residual(order: int):
    names = ["u_" + axis * order for axis in ("x", "y")]

    def pde(f):
        return getattr(f, names[0]) + getattr(f, names[1])

    return pde


def build(config: dict[str, Any]) -> pk.Trainer:
    square = pk.geometry.Rectangle((0, 0), (1, 1))
    problem = pk.Problem(square, residual(config["order"]), outputs="u",
                         conditions=[pk.DirichletBC(None, 0.0, n=256)])
    torch.manual_seed(config["seed"])
    net = pk.nets.MLP(2, 1, width=config["width"], depth=3)
    engine = config["engine"]
    backend = pk.Backend("taylor", compile=True) if engine == "taylor-compiled" else engine
    return pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(config["points"], "random"), lr=1e-3,
                      backend=backend, device=config["device"], seed=config["seed"])


def rss_bytes() -> int:
    """The peak resident set of this process so far (``ru_maxrss`` is in KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def saved_for_backward(trainer: pk.Trainer) -> int:
    """Bytes of the distinct storages autograd saves for the backward pass in one more step of ``trainer``."""
    storages: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        trainer.fit(1, progress=False, log_every=10**9)
    return sum(storages.values())


def measure(config: dict[str, Any]) -> dict[str, Any]:
    """Seconds per step (median of the rounds) and peak memory of one configuration, in this process."""
    cuda = config["device"].startswith("cuda")
    trainer = build(config)
    trainer.fit(config["warmup"], progress=False)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    before = rss_bytes()
    rounds = []
    for _ in range(config["repeats"]):
        start = time.perf_counter()
        trainer.fit(config["steps"], progress=False, log_every=10**9)
        if cuda:
            torch.cuda.synchronize()
        rounds.append((time.perf_counter() - start) / config["steps"])
    memory = torch.cuda.max_memory_allocated() if cuda else rss_bytes() - before
    compiled = trainer.objective.evaluator.backend.compiled
    return {"s_per_step": float(np.median(rounds)), "rounds": rounds, "peak_memory_bytes": int(memory),
            "saved_bytes": saved_for_backward(trainer),
            "memory_kind": "cuda max_memory_allocated" if cuda else "growth of ru_maxrss over the timed steps",
            "compile_s": None if compiled is None else compiled.compile_seconds}


def run_configuration(config: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--measure", json.dumps(config)], text=True,
                          capture_output=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{config} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def exponent(sizes: list[int], seconds: list[float]) -> float:
    """The slope of log(seconds) against log(size) over the larger two thirds of the sweep."""
    keep = max(2, (2 * len(sizes) + 2) // 3)
    x, y = np.log(sizes[-keep:]), np.log(seconds[-keep:])
    return float(np.polyfit(x, y, 1)[0])


def plot(report: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweeps = report["sweeps"]
    fig, axes = plt.subplots(1, len(sweeps), figsize=(5 * len(sweeps), 4), squeeze=False)
    for ax, (sweep, rows) in zip(axes[0], sweeps.items(), strict=True):
        for engine, row in rows.items():
            ax.loglog(row["values"], [1e3 * r["s_per_step"] for r in row["runs"]], "o-",
                      label=f"{engine} (p = {row['exponent']:.2f})")
        ax.set_xlabel(sweep)
        ax.set_ylabel("ms per step")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"PINN step cost, {report['device']}, {report['threads']} threads, torch {report['torch']}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    p.add_argument("--points", nargs="+", type=int, default=[1024, 2048, 4096, 8192, 16384, 32768, 65536])
    p.add_argument("--widths", nargs="+", type=int, default=[20, 64, 128, 256])
    p.add_argument("--orders", nargs="+", type=int, default=[1, 2, 3, 4])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None)
    p.add_argument("--png", default=None)
    p.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(json.loads(args.measure))))
        return {}
    base = {"device": args.device, "seed": args.seed, "steps": args.steps, "repeats": args.repeats,
            "warmup": args.warmup, "points": 4096, "width": 20, "order": 2}
    sweeps = {"points": args.points, "width": args.widths, "order": args.orders}
    report: dict[str, Any] = {"torch": torch.__version__, "python": platform.python_version(),
                              "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
                              "device": args.device, "dtype": "float32", "depth": 3, "seed": args.seed,
                              "sweeps": {}}
    for sweep, values in sweeps.items():
        report["sweeps"][sweep] = {}
        for engine in args.engines:
            runs = []
            for value in values:
                config = {**base, "engine": engine, sweep: value}
                runs.append(run_configuration(config))
                print(f"{sweep}={value:<6} {engine:16s} {1e3 * runs[-1]['s_per_step']:9.2f} ms/step "
                      f"{runs[-1]['peak_memory_bytes'] / 2**20:9.1f} MiB peak growth "
                      f"{runs[-1]['saved_bytes'] / 2**20:9.1f} MiB saved for backward", flush=True)
            many = len(values) > 1
            slope = exponent(values, [r["s_per_step"] for r in runs]) if many else float("nan")
            saved = exponent(values, [r["saved_bytes"] for r in runs]) if many else float("nan")
            report["sweeps"][sweep][engine] = {"values": values, "runs": runs, "exponent": slope,
                                               "saved_bytes_exponent": saved}
            print(f"{sweep} sweep, {engine}: time ~ {sweep}^{slope:.2f}, saved for backward ~ {sweep}^{saved:.2f}",
                  flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1)
    if args.png:
        plot(report, args.png)
    return report


if __name__ == "__main__":
    main()
