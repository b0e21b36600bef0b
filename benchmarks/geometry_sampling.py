"""How long do 10^6 interior points of a non-convex polygon minus a disk take, in pinnkit and in DeepXDE?

The domain is the plate of the README: the non-convex pentagon ``(0, 0), (2, 0), (2, 1), (1, 0.4), (0, 1)``
minus the disk of radius 0.15 centred at ``(0.5, 0.3)``, built the same way in both libraries.

What is measured, per pinnkit sampling method (``pinnkit.geometry.METHODS``), in one process:

* pinnkit: the wall time (``time.perf_counter``) of ``plate.sample_interior(n, method, seed=seed)`` with
  torch's default dtype (float32 unless changed), best of ``--repeats`` calls;
* DeepXDE: the wall time of ``plate.random_points(n, random=X)`` with ``X`` = ``"pseudo"``, ``"LHS"``,
  ``"Sobol"``, ``"Halton"``, ``"Hammersley"`` for random, lhs, sobol, halton, hammersley, and of
  ``plate.uniform_points(n)`` for uniform, in DeepXDE's default float (float32), best of ``--repeats``
  calls, NumPy's global generator seeded with ``seed`` before each call (DeepXDE draws from it);
* ``ratio`` = DeepXDE seconds / pinnkit seconds (above 1: pinnkit is faster);
* the number of distinct points each returned (``torch.unique(dim=0)`` / ``np.unique(axis=0)``), and whether
  pinnkit's points all pass ``plate.inside`` (in their own dtype).

DeepXDE is optional: without it the DeepXDE columns read ``n/a``. Its quasi-random choices are checked
rather than trusted: for sobol, halton and hammersley (deterministic in DeepXDE's sampler) the script draws
1000 points under two NumPy seeds, and lists the methods whose output changed, i.e. for which DeepXDE
sampled pseudo-random points instead (DeepXDE 1.15's ``Polygon.random_points`` ignores ``random``, and
``uniform_points`` of a CSG falls back to ``random_points``).

Run from the repository root (pinnkit installed, or ``PYTHONPATH=.``)::

    python benchmarks/geometry_sampling.py [--n 1000000] [--repeats 3] [--seed 0] [--json out/sampling.json]

``--json`` writes a list of records with keys ``method``, ``pinnkit_s``, ``deepxde_s``, ``ratio``,
``pinnkit_unique``, ``deepxde_unique``, ``n`` (plus ``pinnkit_all_inside`` and ``deepxde_call``); DeepXDE
values are ``null`` when it is not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _deepxde import import_deepxde  # benchmarks/ is on sys.path when a script here runs

import pinnkit.geometry as G

VERTICES = [[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 0.4], [0.0, 1.0]]
HOLE_CENTRE, HOLE_RADIUS = [0.5, 0.3], 0.15
DEEPXDE_RANDOM = {"random": "pseudo", "lhs": "LHS", "sobol": "Sobol", "halton": "Halton", "hammersley": "Hammersley"}
DETERMINISTIC_IN_DEEPXDE = ("sobol", "halton", "hammersley")


def best_time(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Smallest wall time of ``repeats`` calls, and the result of the last call."""
    best, result = float("inf"), None
    for _ in range(repeats):
        result = None  # free the previous result before timing the next call
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def deepxde_sampler(plate: Any, method: str) -> tuple[str, Callable[[int], np.ndarray]]:
    """The DeepXDE call for ``method`` as (description, function of n); its stdout warnings are muted."""
    if method == "uniform":
        name, call = "uniform_points(n)", plate.uniform_points
    else:
        name, call = f'random_points(n, random="{DEEPXDE_RANDOM[method]}")', (
            lambda n: plate.random_points(n, random=DEEPXDE_RANDOM[method]))

    def run(n: int) -> np.ndarray:
        with contextlib.redirect_stdout(io.StringIO()):
            return np.asarray(call(n))

    return name, run


def seed_deepxde(seed: int) -> None:
    """DeepXDE draws from NumPy's legacy global generator, so that is the one to seed."""
    np.random.seed(seed)  # noqa: NPY002


def ignores_method(run: Callable[[int], np.ndarray]) -> bool:
    """Does a sampler that should be deterministic give different points under two NumPy seeds?"""
    seed_deepxde(1)
    first = run(1000)
    seed_deepxde(2)
    return not np.array_equal(first, run(1000))


def measure(n: int, repeats: int, seed: int, dde: Any | None) -> tuple[list[dict[str, Any]], list[str]]:
    plate = G.Polygon(VERTICES) - G.Disk(HOLE_CENTRE, HOLE_RADIUS)
    theirs = None if dde is None else (dde.geometry.Polygon(VERTICES) - dde.geometry.Disk(HOLE_CENTRE, HOLE_RADIUS))
    records, ignored = [], []
    for method in G.METHODS:
        pinnkit_s, x = best_time(lambda method=method: plate.sample_interior(n, method, seed=seed), repeats)
        record: dict[str, Any] = {
            "method": method, "n": n, "pinnkit_s": pinnkit_s, "pinnkit_unique": len(torch.unique(x, dim=0)),
            "pinnkit_all_inside": bool(plate.inside(x).all()),
            "deepxde_s": None, "deepxde_unique": None, "ratio": None, "deepxde_call": None,
        }
        del x
        if theirs is not None:
            call, run = deepxde_sampler(theirs, method)

            def seeded(run: Callable[[int], np.ndarray] = run) -> np.ndarray:
                seed_deepxde(seed)
                return run(n)

            deepxde_s, y = best_time(seeded, repeats)
            record.update(deepxde_s=deepxde_s, deepxde_unique=len(np.unique(y, axis=0)),
                          ratio=deepxde_s / pinnkit_s, deepxde_call=call)
            del y
            if method in DETERMINISTIC_IN_DEEPXDE and ignores_method(run):
                ignored.append(method)
        records.append(record)
    return records, ignored


def fmt(value: Any, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def table(records: list[dict[str, Any]]) -> str:
    header = (f"{'method':<11} {'pinnkit s':>9} {'DeepXDE s':>9} {'ratio':>6} {'pinnkit uniq':>12} "
              f"{'DeepXDE uniq':>12} {'pinnkit inside':>14}  DeepXDE call")
    rows = [header, "-" * len(header)]
    for r in records:
        rows.append(f"{r['method']:<11} {fmt(r['pinnkit_s'], '.3f'):>9} {fmt(r['deepxde_s'], '.3f'):>9} "
                    f"{fmt(r['ratio'], '.2f'):>6} {fmt(r['pinnkit_unique'], 'd'):>12} "
                    f"{fmt(r['deepxde_unique'], 'd'):>12} {'all' if r['pinnkit_all_inside'] else 'NOT all':>14}  "
                    f"{r['deepxde_call'] or 'n/a'}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10**6, help="interior points per call (default 10**6)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per method; the best counts")
    parser.add_argument("--seed", type=int, default=0, help="seed of pinnkit's samplers and of np.random")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write the records as JSON")
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeats < 1:
        parser.error("--n and --repeats must be positive")

    dde = import_deepxde()
    dde_float = "n/a" if dde is None else f"{dde.config.default_float()} (deepxde.config default)"
    print("pinnkit vs DeepXDE: interior points of Polygon(" + str(VERTICES) + f") - Disk({HOLE_CENTRE}, "
          f"{HOLE_RADIUS})")
    print(f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch.get_num_threads() = {torch.get_num_threads()}")
    print(f"python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
          f"deepxde {getattr(dde, '__version__', 'n/a')}")
    print(f"dtype: pinnkit {str(torch.get_default_dtype()).replace('torch.', '')} (torch default), "
          f"DeepXDE {dde_float}; n = {args.n}, seed = {args.seed}, best of {args.repeats}")
    print()
    records, ignored = measure(args.n, args.repeats, args.seed, dde)
    print(table(records))
    if ignored:
        print(f"\nDeepXDE returned pseudo-random points for {', '.join(ignored)} (output changed with np.random's "
              "seed): its Polygon.random_points ignores `random`, so those rows time pseudo-random sampling.")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        keys = ("method", "pinnkit_s", "deepxde_s", "ratio", "pinnkit_unique", "deepxde_unique", "n",
                "pinnkit_all_inside", "deepxde_call")
        args.json.write_text(json.dumps([{k: r[k] for k in keys} for r in records], indent=2) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
