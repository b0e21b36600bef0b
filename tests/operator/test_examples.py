"""The operator-learning examples run with --quick and write what they promise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ..test_examples import load_example

ROOT = Path(__file__).resolve().parents[2]


def run_example(name: str, out: Path, *extra: str) -> str:
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name), "--quick", "--no-progress", "--out",
                           str(out), *extra], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def test_diffusion_reaction_quick(tmp_path):
    stdout = run_example("pideeponet_diffusion_reaction.py", tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["test_functions"] == 5 and metrics["steps"] == 30
    assert np.isfinite(metrics["mean_l2_relative_error"]) and metrics["mean_l2_relative_error"] > 0
    assert "mean relative L2 error" in stdout
    with np.load(tmp_path / "solution.npz") as data:
        assert data["u_ref"].shape == data["u_pred"].shape == (5, 101, 101)
        errors = np.linalg.norm((data["u_pred"] - data["u_ref"]).reshape(5, -1), axis=1) / np.linalg.norm(
            data["u_ref"].reshape(5, -1), axis=1)
        np.testing.assert_allclose(errors, data["errors"], rtol=1e-12)
        # the exact initial and boundary values of the hard-constrained net
        assert np.abs(data["u_pred"][:, :, 0]).max() < 1e-6
        assert np.abs(data["u_pred"][:, [0, -1], :]).max() < 1e-6
    for name in ("history.png", "solution.png", "model.pt"):
        assert (tmp_path / name).is_file()


def test_antiderivative_quick(tmp_path):
    run_example("pideeponet_antiderivative.py", tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["test_functions"] == 5 and np.isfinite(metrics["mean_l2_relative_error"])
    with np.load(tmp_path / "solution.npz") as data:
        x, u_ref = data["x"], data["u_ref"]
        assert np.all(u_ref[:, 0] == 0)
        # the reference is an antiderivative: its slope matches the functions' values by finite differences
        from pinnkit.functions import GaussianRandomField

        v = GaussianRandomField(0.5, method="spectral").evaluate(data["features"], x).numpy()
        slope = np.gradient(u_ref, x, axis=1)
        assert np.abs(slope[:, 1:-1] - v[:, 1:-1]).max() < 1e-3
        # the checkpoint reads back as an operator model that predicts what the example saved
        import pinnkit as pk

        model = pk.load(tmp_path / "model.pt")
        assert isinstance(model, pk.OperatorModel) and model.sensors.shape == (50,)
        at_sensors = GaussianRandomField(0.5, method="spectral").evaluate(data["features"], model.sensors).numpy()
        # float32 network: the same predictions up to float32 round-off (batched and threaded differently; 2.4e-7
        # seen on a loaded machine), far below the model's error
        np.testing.assert_allclose(model.predict(at_sensors, x[:, None])[..., 0], data["u_pred"], rtol=1e-5,
                                   atol=1e-6)
        with pytest.raises(ValueError, match=r"sensor_values must have shape \(M, 50\)"):
            model.predict(at_sensors[:, :10], x[:, None])
        with pytest.raises(ValueError, match=r"x must have shape \(n, 1\) with columns \('x',\)"):
            model.predict(at_sensors, np.zeros((3, 2)))
    assert (tmp_path / "solution.png").is_file()


@pytest.mark.parametrize(("name", "argv", "message"), [
    ("pideeponet_antiderivative.py", ["--batch", "0"], "--batch must be >= 1; got 0"),
    ("pideeponet_diffusion_reaction.py", ["--functions", "-1"], "--functions must be >= 1; got -1"),
    ("pideeponet_diffusion_reaction.py", ["--resample", "0"], "--resample must be >= 1; got 0"),
    ("pideeponet_diffusion_reaction.py", ["--test-functions", "0"], "--test-functions must be >= 1; got 0"),
])
def test_bad_counts_are_refused_before_training(name, argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        load_example(ROOT / "examples" / name).parse_args(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
