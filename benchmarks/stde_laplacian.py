"""Seconds per Adam step of a Poisson loss ``mean((Laplacian(u) - g)^2)``: STDE (random jets) against the exact
Laplacian by reverse mode and by d Taylor-mode jets, at several dimensions, in one run.

The setting of examples/high_dim_poisson.py: ``u = (1 - |x|^2) N(x)`` (HardConstraint with BallDistance), N an MLP
d-128-128-128-128-1 with tanh, 100 points uniform in the unit ball, float32, the two-body source. Per step:

* ``stde``: ``Backend("stde", directions=16)``, the Hutchinson estimate from 16 Rademacher directions (one
  order-2 Taylor pass along each, batched);
* ``jets``: ``Backend("stde", directions=None)``, the exact Laplacian by d order-2 Taylor passes along the axes;
* ``reverse``: ``Backend("autograd")`` and ``engine.apply(Laplacian(), 0)``, the exact Laplacian as the sum of
  the d second partials, each a reverse-mode pass through the first derivative's graph (d + 1 backward passes,
  then the loss's backward through all of them).

Each configuration trains ``--warmup`` steps, then ``--repeats`` rounds of ``--steps`` steps are timed (the
median round is reported; ``min`` on a shared machine with ``--least-disturbed``). The ratio ``reverse / stde``
is printed per dimension; ``--json PATH`` writes every number. Slow configurations (reverse mode at d = 1000 is
about a thousand backward passes per step) get fewer steps through ``--max-seconds``.

Run ``python benchmarks/stde_laplacian.py --dims 10 100 1000``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch
from _timing import seconds_per_call  # benchmarks/ is on sys.path when a script here runs

import pinnkit as pk
from pinnkit.derivatives import Laplacian
from pinnkit.pde.references import TwoBody

METHODS = {"stde": lambda: pk.Backend("stde", directions=16, seed=0),
           "jets": lambda: pk.Backend("stde", directions=None),
           "reverse": lambda: pk.Backend("autograd")}


def step_function(dim: int, method: str, points: int, width: int, depth: int, device: str, seed: int):
    """One Adam step of the Poisson loss with ``method``'s Laplacian, as a closure."""
    torch.manual_seed(seed)
    net = pk.nets.HardConstraint(pk.nets.MLP(dim, 1, width=width, depth=depth), 0.0,
                                 pk.nets.BallDistance(1.0)).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    backend = METHODS[method]()
    body = TwoBody(dim, seed=0)
    g = torch.Generator(device).manual_seed(seed)
    z = torch.randn(points, dim, generator=g, device=device)
    r = torch.rand(points, 1, generator=g, device=device) ** (1.0 / dim)
    x = r * z / z.norm(dim=1, keepdim=True)
    target = body.laplacian(x)
    laplacian = Laplacian()

    def step() -> float:
        engine = backend.engine(net, x)
        loss = (engine.apply(laplacian, 0) - target).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach().item()

    return step


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dims", type=int, nargs="+", default=[10, 100, 1000])
    p.add_argument("--methods", nargs="+", choices=tuple(METHODS), default=list(METHODS))
    p.add_argument("--points", type=int, default=100)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--steps", type=int, default=5, help="steps per timed round (default 5)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--max-seconds", type=float, default=60.0, help="rough budget per configuration: slower "
                   "ones are timed over one round of fewer steps (default 60)")
    p.add_argument("--least-disturbed", action="store_true", help="report the fastest round, not the median")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    summary = min if args.least_disturbed else statistics.median
    results: dict = {"settings": {**vars(args), "torch": torch.__version__, "machine": platform.machine(),
                                  "threads": torch.get_num_threads()}, "s_per_step": {}, "ratios": {}}
    for dim in args.dims:
        row = {}
        for method in args.methods:
            step = step_function(dim, method, args.points, args.width, args.depth, args.device, args.seed)
            start = time.perf_counter()
            step()  # first step: a rough cost, to size the timing
            first = time.perf_counter() - start
            calls, repeats, warmup = args.steps, args.repeats, args.warmup
            if first * (calls * repeats + warmup) > args.max_seconds:
                calls, repeats, warmup = max(1, int(args.max_seconds / max(first, 1e-9)) // 2), 1, 0
            row[method] = seconds_per_call(step, calls, repeats, args.device, warmup=warmup, summary=summary)
            print(f"d = {dim:6d}  {method:8s} {1e3 * row[method]:10.2f} ms/step  ({calls} x {repeats} steps)",
                  flush=True)
        results["s_per_step"][str(dim)] = row
        if "stde" in row:
            results["ratios"][str(dim)] = {m: row[m] / row["stde"] for m in row if m != "stde"}
            print(f"d = {dim:6d}  " + "  ".join(f"{m}/stde = {v:.1f}x" for m, v in
                                                results["ratios"][str(dim)].items()), flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
