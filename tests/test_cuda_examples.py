"""On a machine with CUDA: every example that takes ``--device`` trains there (``--quick``), writes finite
metrics, and its checkpoint (saved from the GPU) loads on the CPU and predicts finite values of the right shape.

Skipped without CUDA (CI has none); run on a GPU machine with ``python -m pytest -q tests/test_cuda_examples.py``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import pinnkit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def finite_numbers(value) -> list[float]:
    """Every float in a (nested) metrics record."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in finite_numbers(v)]
    if isinstance(value, list):
        return [x for v in value for x in finite_numbers(v)]
    return [float(value)] if isinstance(value, float) else []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_trains_on_cuda_and_loads_on_cpu(example: Path, tmp_path: Path):
    out = tmp_path / "out"
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    # the example's own --help says which options it takes (many come from pinnkit.cli, not from its text)
    usage = subprocess.run([sys.executable, str(example), "--help"], env=env, capture_output=True, text=True,
                           timeout=120).stdout
    if "--device" not in usage:
        pytest.skip(f"{example.name} takes no --device")
    args = [sys.executable, str(example), "--quick", "--device", "cuda", "--out", str(out)]
    if "--no-progress" in usage:
        args.append("--no-progress")
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
    metrics_files = sorted(out.rglob("metrics.json"))
    assert metrics_files, f"{example.name} wrote no metrics.json under {out}"
    for path in metrics_files:
        numbers = finite_numbers(json.loads(path.read_text(encoding="utf-8")))
        assert numbers and all(math.isfinite(x) for x in numbers), f"{path}: non-finite metric"
    for path in sorted(out.rglob("model.pt")):
        try:
            model = pinnkit.load(path)
        except ValueError as err:  # a net pinnkit cannot rebuild alone (the example documents net=...)
            assert "pass net=" in str(err)
            continue
        x = np.random.default_rng(0).uniform(0.1, 0.9, size=(7, len(model.coordinates)))
        if isinstance(model, pinnkit.OperatorModel):  # input functions at the sensors first: (M, m), then points
            on_cpu = model.predict(np.ones((2, len(model.sensors))), x)
            assert on_cpu.shape == (2, 7, len(model.outputs)) and np.isfinite(on_cpu).all()
        else:
            on_cpu = model.predict(x)
            assert on_cpu.shape == (7, len(model.outputs)) and np.isfinite(on_cpu).all()
