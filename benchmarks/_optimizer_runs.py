"""Shared by the optimizer benchmarks: training runs per (method, seed) that track a test error, and the table.

Each run seeds torch, builds a fresh network, trains it through :class:`pinnkit.Trainer` with the method's
optimizer, and evaluates the test error every ``eval_every`` steps (and at the end) in a callback, outside the
timed part of the step (the wall time reported is the Trainer's own step time, ``history[-1]["time"]``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

import pinnkit as pk


def add_common_options(p: argparse.ArgumentParser, *, steps: int, methods: list[str], seeds: list[int]) -> None:
    p.add_argument("--steps", type=int, default=steps, help=f"training steps per run (default {steps})")
    p.add_argument("--seeds", type=int, nargs="+", default=seeds, help=f"seeds (default {seeds})")
    p.add_argument("--methods", nargs="+", default=methods, help=f"methods to run (default {methods})")
    p.add_argument("--eval-every", type=int, default=100, help="test error every this many steps (default 100)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="precision (default float32)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--backend", choices=pk.derivatives.backend_names("pinn"), default="autograd",
                   help="derivative engine")
    p.add_argument("--json", default=None, metavar="PATH", help="write the settings and per-run results")


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace, known: Mapping[str, Any]) -> None:
    unknown = [m for m in args.methods if m not in known]
    if unknown:
        p.error(f"--methods: unknown {unknown}; choose from {list(known)}")
    if args.steps < 1 or args.eval_every < 1:
        p.error("--steps and --eval-every must be positive")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        p.error(f"--device {args.device}: CUDA is not available here")


def train(problem: pk.Problem, make_net: Callable[[], torch.nn.Module], optimizer, *, points: int, steps: int,
          seed: int, dtype: torch.dtype, device: str, backend: str, eval_every: int,
          error: Callable[[pk.Trainer], float], resample: bool = False) -> dict[str, Any]:
    """One run; returns the best and final test error, their steps, the curve, the time and the final terms.
    ``resample``: new Latin-hypercube collocation points every step instead of one fixed Sobol set."""
    torch.manual_seed(seed)
    net = make_net()
    sampler = pk.sampling.Resample(points, every=1, method="lhs") if resample else pk.sampling.FixedPoints(points,
                                                                                                         "sobol")
    trainer = pk.Trainer(problem, net, sampler=sampler, optimizer=optimizer,
                         dtype=dtype, device=device, backend=backend, seed=seed)
    with torch.enable_grad():
        initial_terms = {k: float(v.detach()) for k, v in trainer.losses()[1].items()}
    curve: list[tuple[int, float]] = []

    def on_step_end(t, step, loss):
        if step % eval_every == 0:
            curve.append((step, error(t)))

    diverged = None
    try:
        trainer.fit(steps, callbacks=[pk.callbacks.LambdaCallback(on_step_end=on_step_end)], progress=False,
                    log_every=max(1, steps // 10))
    except pk.NonFiniteLossError as err:
        diverged = str(err)
    if not curve or curve[-1][0] != trainer.step:
        curve.append((trainer.step, error(trainer)))
    best_step, best = min(curve, key=lambda c: c[1])
    record = trainer.history[-1]
    return {"seed": seed, "best": best, "best_step": best_step, "final": curve[-1][1], "steps": trainer.step,
            "time_s": record["time"], "ms_per_step": 1e3 * record["time"] / max(trainer.step, 1),
            "initial_terms": initial_terms, "final_terms": {k: record[k] for k in problem.terms},
            "curve": curve, "diverged": diverged,
            "parameters": sum(q.numel() for q in net.parameters())}


def report(title: str, settings: dict[str, Any], methods: Mapping[str, str], runs: dict[str, list[dict]],
           metric: str, reported: Mapping[str, float] | None = None, json_path: str | None = None) -> dict:
    """Print the table (median over seeds, per-seed values) and write the JSON."""
    first = next(iter(runs.values()))[0]
    params = first["parameters"]
    print(f"\n{title}")
    print("loss terms at initialisation (seed {}): {}".format(
        first["seed"], ", ".join(f"{k} {v:.2e}" for k, v in first["initial_terms"].items())))
    print(f"{params} parameters; seeds {settings['seeds']}; {settings['dtype']}; {settings['device']} "
          f"({platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads); {metric} every {settings['eval_every']} steps and at the end")
    head = f"{'method':<16}{'best ' + metric:>14}{'final':>11}{'s/run':>9}{'ms/step':>9}"
    head += f"{'reported':>10}" if reported else ""
    print(head + "  per-seed best (step)   settings")
    for name, rs in runs.items():
        best = statistics.median(r["best"] for r in rs)
        final = statistics.median(r["final"] for r in rs)
        wall = statistics.mean(r["time_s"] for r in rs)
        ms = statistics.mean(r["ms_per_step"] for r in rs)
        line = f"{name:<16}{best:>14.3e}{final:>11.3e}{wall:>9.1f}{ms:>9.2f}"
        if reported:
            line += f"{reported[name]:>10.1e}" if name in reported else f"{'-':>10}"
        seeds = ", ".join(f"{r['best']:.2e} ({r['best_step']})" + (" NaN" if r["diverged"] else "") for r in rs)
        print(f"{line}  {seeds}   {methods[name]}")
    result = {"settings": settings, "methods": dict(methods), "reported": dict(reported or {}), "runs": runs,
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                          "threads": torch.get_num_threads()}}
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result
