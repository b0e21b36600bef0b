"""The Burgers example over several seeds: relative L2 error and wall time per seed.

Runs ``examples/burgers.py`` with its default settings (or the options given after ``--``) once per seed, in
this process, one after the other, and prints a table plus the median and the number of seeds at or below
``--target`` (default 1e-3). ``--json PATH`` writes the per-seed metrics.

    python benchmarks/burgers_seeds.py --seeds 0 1 2 3 4
    python benchmarks/burgers_seeds.py --seeds 0 1 -- --dtype float32 --lbfgs-steps 5000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

try:
    from benchmarks._examples import load_example
except ImportError:  # run as a script from the benchmarks directory
    from _examples import load_example


def main(argv: list[str] | None = None) -> list[dict]:
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--target", type=float, default=1e-3)
    p.add_argument("--json", default=None, metavar="PATH")
    args = p.parse_args(argv)
    example = load_example("burgers")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            metrics = example.main(["--seed", str(seed), "--out", f"{tmp}/seed{seed}", "--no-progress", *extra])
            rows.append(metrics)
    print(f"\nBurgers example, settings: {' '.join(extra) or 'defaults'}")
    print(f"{'seed':>5}{'rel. L2':>12}{'time (s)':>10}{'steps':>8}  L-BFGS stop")
    for r in rows:
        print(f"{r['seed']:>5}{r['l2_relative_error']:>12.3e}{r['wall_time_s']:>10.1f}{r['steps']:>8}  "
              f"{r['lbfgs_stop_reason'] or '-'}")
    errors = [r["l2_relative_error"] for r in rows]
    hits = sum(e <= args.target for e in errors)
    print(f"median {statistics.median(errors):.3e}; {hits} of {len(rows)} seeds <= {args.target:g}; "
          f"{rows[0]['parameters']} parameters, {rows[0]['dtype']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return rows


if __name__ == "__main__":
    main()
