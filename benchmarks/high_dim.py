"""Step time and peak memory of a high-dimensional Poisson step: STDE against the exact Laplacian by d Taylor-mode
jets and by reverse mode, for d = 10 ... 100,000, in one run (issue 22's benchmark).

The setting of examples/high_dim_poisson.py: ``u = (1 - |x|^2) N(x)`` (HardConstraint with BallDistance), N an MLP
d-128-128-128-128-1 with tanh, 100 points in the unit ball (the example's radial law), float32, the two-body source,
one Adam step of the loss ``mean((Laplacian(u) - g)^2)``. The Laplacian is, per method:

* ``stde``: ``Backend("stde", directions=16)``, the Hutchinson estimate from 16 Rademacher directions (one
  order-2 Taylor pass along each, batched);
* ``jets``: ``Backend("stde", directions=None)``, the exact Laplacian by d order-2 Taylor passes along the axes
  (memory O(N d width));
* ``reverse``: ``Backend("autograd")`` and ``engine.apply(Laplacian(), 0)``, the exact Laplacian as the sum of the
  d second partials, each a reverse-mode pass through the first derivative's graph (d + 1 backward passes, then
  the loss's backward through all of them).

Every (method, d) runs in a fresh child process, so that its memory is its own: the child trains ``--warmup``
steps, then ``--repeats`` rounds of ``--steps`` steps are timed (the median round; ``min`` with
``--least-disturbed``); a configuration whose first step is slow gets one round of fewer steps. **Peak memory** is
the step's high-water mark above what the process held just before its first step (the model, its inputs and the
interpreter): on the CPU the resident set's peak (``getrusage``), on CUDA ``torch.cuda.max_memory_allocated``; it
includes the gradients and Adam's moments, which the first step allocates. A child that runs past
``--max-seconds`` is stopped and reported as over time, one that fails to allocate (past ``--max-memory-gib`` of
address space on the CPU) as out of memory; either way the
method is not tried at larger d. The table gives ms/step, MiB and the ratios to STDE; ``--json`` writes every
number, ``--plot`` a log-log figure of both against d.

Run ``python benchmarks/high_dim.py --plot out/high_dim.png --json out/high_dim.json``
(``--dims 10 100 1000`` for the quick comparison).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch
from _timing import seconds_per_call  # benchmarks/ is on sys.path when a script here runs

import pinnkit as pk
from pinnkit.derivatives import Laplacian
from pinnkit.pde.references import TwoBody

METHODS = {"stde": lambda: pk.Backend("stde", directions=16, seed=0),
           "jets": lambda: pk.Backend("stde", directions=None),
           "reverse": lambda: pk.Backend("autograd")}
DIMS = [10, 100, 1000, 10_000, 100_000]


def step_function(dim: int, method: str, points: int, width: int, depth: int, device: str, seed: int):
    """One Adam step of the Poisson loss with ``method``'s Laplacian, as a closure."""
    torch.manual_seed(seed)
    net = pk.nets.HardConstraint(pk.nets.MLP(dim, 1, width=width, depth=depth), 0.0,
                                 pk.nets.BallDistance(1.0)).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    backend = METHODS[method]()
    g = torch.Generator(device).manual_seed(seed)
    z = torch.randn(points, dim, generator=g, device=device)
    x = torch.rand(points, 1, generator=g, device=device) * z / z.norm(dim=1, keepdim=True)
    target = TwoBody(dim, seed=0).laplacian(x)
    laplacian = Laplacian()

    def step() -> float:
        engine = backend.engine(net, x)
        loss = (engine.apply(laplacian, 0) - target).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach().item()

    return step


def _resident_bytes() -> int:
    """The process's resident set now (Linux ``/proc``; elsewhere its peak so far, an upper bound)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * resource.getpagesize()
    except OSError:
        return _peak_resident_bytes()


def _peak_resident_bytes() -> int:
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def measure(args: argparse.Namespace, method: str, dim: int) -> dict[str, Any]:
    """Seconds per step and peak memory (bytes) of one configuration, in this process (the child's work), which may
    not map more than ``--max-memory-gib`` (an allocation past it fails in the child, not the machine)."""
    if args.max_memory_gib and torch.device(args.device).type == "cpu":
        limit = int(args.max_memory_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    summary = min if args.least_disturbed else statistics.median
    step = step_function(dim, method, args.points, args.width, args.depth, args.device, args.seed)
    cuda = torch.device(args.device).type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        before = _resident_bytes()
    start = time.perf_counter()
    step()  # the first step allocates the gradients and Adam's moments, and gives a rough cost
    first = time.perf_counter() - start
    calls, repeats, warmup = args.steps, args.repeats, args.warmup
    if first * (calls * repeats + warmup) > args.max_seconds / 2:
        calls, repeats, warmup = max(1, int(args.max_seconds / 4 / max(first, 1e-9))), 1, 0
    seconds = seconds_per_call(step, calls, repeats, args.device, warmup=warmup, summary=summary)
    peak = (torch.cuda.max_memory_allocated() if cuda else _peak_resident_bytes()) - before
    return {"s_per_step": seconds, "peak_bytes": max(peak, 0), "steps_timed": calls * repeats,
            "parameters": dim * args.width + (args.depth - 1) * args.width**2 + args.depth * args.width
            + args.width + 1}


def run_child(args: argparse.Namespace, method: str, dim: int) -> dict[str, Any]:
    """:func:`measure` in a fresh interpreter, stopped after ``--max-seconds``: its numbers, or ``{"failed": why}``."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", method, str(dim),
               *(f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items()
                 if k in ("points", "width", "depth", "steps", "repeats", "warmup", "max_seconds", "max_memory_gib",
                         "device", "seed")),
               *(["--least-disturbed"] if args.least_disturbed else [])]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.max_seconds)
    except subprocess.TimeoutExpired:
        return {"failed": f"over time (> {args.max_seconds:g} s)"}
    if done.returncode != 0:
        text = done.stderr.strip().splitlines()
        memory = done.returncode in (-9, 137) or any("memory" in line.lower() or "alloc" in line.lower()
                                                     for line in text[-3:])
        return {"failed": "out of memory" if memory else f"failed: {text[-1] if text else done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: dict[str, Any]) -> str:
    """The markdown table: ms/step and peak MiB per method and d, and the ratios to STDE."""
    methods = results["settings"]["methods"]
    head = "| d | " + " | ".join(f"{m} ms/step | {m} MiB" for m in methods) + " | " + " | ".join(
        f"{m}/stde time | {m}/stde memory" for m in methods if m != "stde") + " |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for dim, row in results["runs"].items():
        cells = []
        for m in methods:
            r = row.get(m, {"failed": "not run"})
            cells += [r["failed"], ""] if "failed" in r else [f"{1e3 * r['s_per_step']:.2f}",
                                                               f"{r['peak_bytes'] / 2**20:.1f}"]
        for m in methods:
            if m == "stde":
                continue
            a, s = row.get(m, {}), row.get("stde", {})
            ok = "s_per_step" in a and "s_per_step" in s
            cells += [f"{a['s_per_step'] / s['s_per_step']:.3g}x" if ok else "",
                      f"{a['peak_bytes'] / max(s['peak_bytes'], 1):.3g}x" if ok else ""]
        lines.append(f"| {dim} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: dict[str, Any], path: str) -> None:
    """Log-log step time and peak memory against d, one line per method (failed configurations left out)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for method in results["settings"]["methods"]:
        dims = [int(d) for d, row in results["runs"].items() if "s_per_step" in row.get(method, {})]
        runs = [results["runs"][str(d)][method] for d in dims]
        if dims:
            axes[0].loglog(dims, [1e3 * r["s_per_step"] for r in runs], "o-", label=method)
            axes[1].loglog(dims, [max(r["peak_bytes"], 1) / 2**20 for r in runs], "o-", label=method)
    for ax, label in zip(axes, ("ms per Adam step", "peak memory of the step (MiB)"), strict=True):
        ax.set_xlabel("dimension d")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    s = results["settings"]
    fig.suptitle(f"Poisson step, {s['points']} points, MLP width {s['width']} depth {s['depth']}, float32, "
                 f"{s['device']}, {s['threads']} threads, torch {s['torch']}", fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dims", type=int, nargs="+", default=DIMS)
    p.add_argument("--methods", nargs="+", choices=tuple(METHODS), default=list(METHODS))
    p.add_argument("--points", type=int, default=100)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--steps", type=int, default=5, help="steps per timed round (default 5)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--max-seconds", type=float, default=300.0, help="time allowed to one configuration, start-up "
                   "included; slow ones are timed over one round of fewer steps (default 300)")
    p.add_argument("--max-memory-gib", type=float, default=16.0, help="address space allowed to one configuration "
                   "on the CPU (default 16; 0: no limit); past it the method is out of memory")
    p.add_argument("--least-disturbed", action="store_true", help="report the fastest round, not the median")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None)
    p.add_argument("--plot", default=None, help="write the log-log figure here (PNG)")
    p.add_argument("--child", nargs=2, metavar=("METHOD", "DIM"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args, args.child[0], int(args.child[1]))))
        return {}
    results: dict[str, Any] = {
        "settings": {**{k: v for k, v in vars(args).items() if k != "child"}, "torch": torch.__version__,
                     "machine": platform.machine(), "threads": torch.get_num_threads(), "dtype": "float32"},
        "runs": {}}
    stopped: dict[str, str] = {}
    for dim in sorted(args.dims):
        row = results["runs"].setdefault(str(dim), {})
        for method in args.methods:
            if method in stopped:
                row[method] = {"failed": f"not run ({stopped[method]})"}
                continue
            row[method] = run_child(args, method, dim)
            r = row[method]
            if "failed" in r:
                stopped[method] = f"{r['failed']} at d = {dim}"
                print(f"d = {dim:6d}  {method:8s} {r['failed']}", flush=True)
            else:
                print(f"d = {dim:6d}  {method:8s} {1e3 * r['s_per_step']:10.2f} ms/step  "
                      f"{r['peak_bytes'] / 2**20:9.1f} MiB  ({r['steps_timed']} steps timed)", flush=True)
    print(table(results))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    if args.plot:
        plot(results, args.plot)
    return results


if __name__ == "__main__":
    main()
