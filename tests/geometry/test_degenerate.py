"""Empty and degenerate domains fail fast: each case raises the designed ValueError within seconds and a bounded
amount of memory, or keeps the promise of ``n`` distinct points.

The cases run in one child process whose address space is capped (``RLIMIT_AS``: what it holds after warming up
plus ``CAP``) before each case, so that a case that tries to allocate gigabytes (as they all did: 20 GiB for an
empty boundary selection, 2 to 13 GiB for a too-thin CSG result) fails with a MemoryError there instead of
eating the machine. The child reports per case the outcome, the wall time and the growth of its peak RSS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CAP = 512 * 2**20  # address space each case may add (glibc arenas and torch's thread pools need some room)
SECONDS = 10.0  # a generous bound for a loaded 2-core machine; on a quiet one each case takes well under 1 s
ROOT = Path(__file__).resolve().parents[2]

CASES = {
    # name: (code run in the child, expected outcome: "ok", or "ValueError: <the message's start>" where ".*"
    # stands for any text and everything else is literal)
    "empty_selection_in_dirichlet_bc": (
        "rect = G.Rectangle([0, 0], [1, 1]);"
        "pk.Problem(rect, lambda f: f.u, conditions=[pk.DirichletBC(rect.boundary(lambda x: x[:, 0] > 2))])",
        "ValueError: Rectangle.*.boundary(<lambda>) seems empty or too thin to sample"),
    "empty_selection_sample": (
        "G.Rectangle([0, 0], [1, 1]).boundary('left', lambda x: x[:, 1] > 5).sample(256)",
        "ValueError: Rectangle.*.boundary(x_min; <lambda>) seems empty"),
    "thin_annulus_interior": (
        "(G.Disk([0, 0], 1) - G.Disk([0, 0], 1 - 1e-9)).sample_interior(256)",
        "ValueError: (Disk(center=[0.0, 0.0], radius=1.0) - Disk(center=[0.0, 0.0], radius=0.999999999)) seems "
        "empty or too thin to sample: none of 1048576 candidate points"),
    "empty_intersection_interior": (
        "(G.Disk([0, 0], 1) & G.Disk([1.9, 1.9], 1)).sample_interior(100)",
        "ValueError: .* seems empty or too thin to sample"),
    "empty_difference_boundary": (
        "(G.Disk([0, 0], 1) - G.Rectangle([-2, -2], [2, 2])).sample_boundary(100)",
        "ValueError: the boundary of .* seems empty or too thin to sample"),
    "thin_polygon_interior": (
        "G.Polygon([[0, 0], [1, 1], [1 - 1e-9, 1]]).sample_interior(256)",
        "ValueError: Polygon.* seems empty or too thin to sample"),
    "thin_annulus_over_budget": (
        "(G.Disk([0, 0], 1) - G.Disk([0, 0], 1 - 1e-4)).sample_interior(10**4)",
        "ValueError: 10000 interior points of .* would need about .* candidates per round at the acceptance "
        "rate seen .*, more than the budget of 4194304"),
    "thin_annulus_few_points_still_work": (
        "x = (G.Disk([0, 0], 1) - G.Disk([0, 0], 1 - 1e-4)).sample_interior(64, seed=0, dtype=torch.float64);"
        "assert len(torch.unique(x, dim=0)) == 64 and bool(((x ** 2).sum(1) > (1 - 1e-4) ** 2).all())",
        "ok"),
    "far_interval_float32_refused": (
        "G.Interval(1e6, 1e6 + 1).sample_interior(10**6, dtype=torch.float32)",
        "ValueError: interior points of Interval(1000000.0, 1000001.0) in torch.float32 cannot be 1000000 "
        "distinct points: its bounding box holds only 17 points"),
    "far_interval_float32_distinct": (
        "x = G.Interval(1e6, 1e6 + 1).sample_interior(15, 'random', seed=1, dtype=torch.float32);"
        "assert x.shape == (15, 1) and len(torch.unique(x)) == 15",
        "ok"),
    "far_square_boundary_float32_refused": (
        "G.Rectangle([1e6, 1e6], [1e6 + 1, 1e6 + 1]).sample_boundary(200, dtype=torch.float32)",
        "ValueError: boundary points of Rectangle.* in torch.float32 cannot be 200 distinct points: rounding to "
        "torch.float32 leaves 64 distinct ones"),
    "far_periodic_pairs_float32_refused": (
        "G.Rectangle([1e6, 0], [1e6 + 1, 1]).sample_periodic_pairs(100, 'y', dtype=torch.float32)",
        "ValueError: points of the face y = 0.0 .* cannot be 100 distinct points"),
    "random_float32_distinct": (
        "x = G.Interval(0, 1).sample_interior(10**5, 'random', seed=1, dtype=torch.float32);"
        "assert len(torch.unique(x)) == 10**5, len(torch.unique(x))",
        "ok"),
}

CHILD = textwrap.dedent("""
    import gc, json, re, resource, sys, time
    import torch
    import pinnkit as pk
    import pinnkit.geometry as G

    cases, cap = json.loads(sys.argv[1]), int(sys.argv[2])
    G.Disk([0, 0], 1).sample_interior(1000)  # warm up torch's thread pool and allocator outside the cap
    results = {}

    def vm_size():
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))

    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    for name, code in cases.items():
        gc.collect()
        resource.setrlimit(resource.RLIMIT_AS, (vm_size() + cap, hard))
        peak0, t0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
        try:
            exec(code, {"G": G, "pk": pk, "torch": torch})
            outcome = "ok"
        except BaseException as err:  # report any failure, MemoryError included
            outcome = f"{type(err).__name__}: {err}"
        seconds = time.perf_counter() - t0
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak0) / 1024
        results[name] = {"outcome": outcome, "seconds": seconds, "peak_growth_mb": grown}
    print(json.dumps(results))
""")


@pytest.fixture(scope="module")
def results():
    if not sys.platform.startswith("linux"):
        pytest.skip("the memory cap uses RLIMIT_AS and /proc (Linux)")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps({k: c for k, (c, _) in CASES.items()}),
                           str(CAP)], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(CASES))
def test_degenerate_case(results, name):
    import re

    result, expected = results[name], CASES[name][1]
    if expected == "ok":
        assert result["outcome"] == "ok", result
    else:
        pattern = ".*".join(re.escape(part) for part in expected.split(".*"))  # literal text; ".*" any text
        assert re.match(pattern, result["outcome"], re.DOTALL), result
    assert result["seconds"] < SECONDS, result
    assert result["peak_growth_mb"] < CAP / 2**20, result
