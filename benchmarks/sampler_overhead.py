"""Cost of the adaptive samplers' per-step update, against the training step, on the Burgers example.

The Burgers example's configuration (2540 collocation points, 200 boundary and 400 initial points, MLP 2-20-20-20-1
tanh, Adam, float64 as in the example; ``--dtype float32`` for the other precision). For each sampler the
script times (a) whole training steps through ``Trainer.fit`` and (b) the sampler's and weighting's own work
alone: the sampler's ``points`` and ``update`` with the step's residual, the weighting's ``weights`` and
``update``, repeated on the same state. The target (issue 4) is an update cost of at most 5% of a training
step for R3 and Causal R3.
``--json PATH`` writes the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from burgers import build_problem  # noqa: E402  (the example's problem, not a copy)

import pinnkit as pk  # noqa: E402

SAMPLERS = {  # name -> n -> (sampler, weighting)
    "fixed": lambda n: (pk.sampling.FixedPoints(n, "sobol"), None),
    "r3": lambda n: (pk.sampling.R3(n), None),
    "causal_r3": lambda n: (pk.sampling.CausalR3(n), None),
    "causal_weighting": lambda n: (pk.sampling.FixedPoints(n, "sobol"), pk.weighting.CausalWeighting()),
    "resample": lambda n: (pk.sampling.Resample(n, every=1), None),
}


def sampler_seconds(trainer: pk.Trainer, repeats: int) -> float:
    """Seconds per step of the sampler's and the weighting's own calls, on the trainer's current state."""
    sampler, weighting = trainer.sampler, trainer.weighting
    with torch.enable_grad():
        _, terms, residuals = trainer.losses()
    residual = residuals["pde"].detach()
    losses = {k: v.detach() for k, v in terms.items() if k != "pde"}
    start = time.perf_counter()
    for i in range(repeats):
        points = sampler.points(trainer.step + i)
        if weighting is not None:
            weighting.weights(points, residual, losses)
            weighting.update(trainer.step + i)
        sampler.update(trainer.step + i, residual)
    return (time.perf_counter() - start) / repeats


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=200, help="training steps per timed round")
    p.add_argument("--repeats", type=int, default=5, help="timed rounds (median reported)")
    p.add_argument("--points", type=int, default=2540)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, metavar="PATH")
    args = p.parse_args(argv)
    dtype = getattr(torch, args.dtype)

    problem = build_problem()
    trainers = {}
    for name, make in SAMPLERS.items():
        torch.manual_seed(args.seed)
        net = pk.nets.MLP(2, 1, width=20, depth=3, input_bounds=problem.domain.bbox)
        sampler, weighting = make(args.points)
        trainers[name] = pk.Trainer(problem, net, sampler=sampler, weighting=weighting, dtype=dtype, seed=args.seed)
        trainers[name].fit(20, progress=False, log_every=10**9)  # warm-up
    step_s = {k: [] for k in trainers}
    own_s = {k: [] for k in trainers}
    for _ in range(args.repeats):
        for name, tr in trainers.items():
            start = time.perf_counter()
            tr.fit(args.steps, progress=False, log_every=10**9)
            step_s[name].append((time.perf_counter() - start) / args.steps)
            own_s[name].append(sampler_seconds(tr, args.steps))
    params = sum(q.numel() for q in trainers["fixed"].net.parameters())
    print(f"Sampler cost on the Burgers example: {args.points} collocation points, MLP 2-20-20-20-1 tanh "
          f"({params} parameters), Adam, {args.dtype}, seed {args.seed}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"{'sampler':<18}{'step (ms)':>12}{'sampler alone (ms)':>20}{'share of step':>15}{'step vs fixed':>15}")
    result = {"points": args.points, "parameters": params, "dtype": args.dtype, "seed": args.seed,
              "steps": args.steps, "repeats": args.repeats, "samplers": {}}
    base = statistics.median(step_s["fixed"])
    for name in trainers:
        step, own = statistics.median(step_s[name]), statistics.median(own_s[name])
        print(f"{name:<18}{1e3 * step:>12.3f}{1e3 * own:>20.4f}{own / step:>14.1%}{step / base:>14.2f}x")
        result["samplers"][name] = {"step_s": step, "sampler_s": own, "share_of_step": own / step,
                                    "step_vs_fixed": step / base}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
