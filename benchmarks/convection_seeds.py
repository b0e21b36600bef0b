"""The convection example over samplers and seeds: relative L2 error against sin(x - beta t), and wall time.

Runs ``examples/convection.py`` (its default settings, or the options given after ``--``) once per sampler
and seed, in this process, one after the other, and prints a table with each sampler's median and the number
of seeds below ``--target`` (default 5%). The issue's target at beta = 50: R3 and Causal R3 with a median
<= 2% and 5 of 5 seeds below 5%, where fixed points fail. ``--json PATH`` writes every run's metrics.

    python benchmarks/convection_seeds.py
    python benchmarks/convection_seeds.py --samplers r3 fixed --seeds 0 1 -- --steps 20000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import torch

try:
    from benchmarks._examples import load_example
except ImportError:  # run as a script from the benchmarks directory
    from _examples import load_example


def main(argv: list[str] | None = None) -> list[dict]:
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    example = load_example("convection")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--samplers", nargs="+", choices=example.SAMPLERS, default=list(example.SAMPLERS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--target", type=float, default=0.05)
    p.add_argument("--json", default=None, metavar="PATH")
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sampler in args.samplers:
            for seed in args.seeds:
                rows.append(example.main(["--sampler", sampler, "--seed", str(seed), "--no-progress",
                                          "--out", f"{tmp}/{sampler}{seed}", *extra]))
    first = rows[0]
    print(f"\nConvection example, beta = {first['beta']:g}, settings: {' '.join(extra) or 'defaults'} "
          f"({first['windows']} windows of {first['adam_steps_per_window']} Adam + up to "
          f"{first['lbfgs_steps_per_window']} L-BFGS steps, {first['points']} points, {first['parameters']} "
          f"parameters, {first['dtype']}, {torch.get_num_threads()} threads)")
    print(f"{'sampler':<12}" + "".join(f"{'seed ' + str(s):>11}" for s in args.seeds)
          + f"{'median':>11}{'< target':>10}{'time/run (s)':>14}")
    for sampler in args.samplers:
        mine = [r for r in rows if r["sampler"] == sampler]
        errors = [r["l2_relative_error"] for r in mine]
        hits = sum(e < args.target for e in errors)
        print(f"{sampler:<12}" + "".join(f"{e:>11.2e}" for e in errors) + f"{statistics.median(errors):>11.2e}"
              f"{f'{hits}/{len(errors)}':>10}{statistics.mean(r['wall_time_s'] for r in mine):>14.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return rows


if __name__ == "__main__":
    main()
