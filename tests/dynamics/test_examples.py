"""The dynamics examples and the adjoint benchmark run (quick settings) and write what they promise."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"dynamics_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_files(out: Path, names: tuple[str, ...]) -> dict:
    for name in names:
        assert (out / name).is_file(), name
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:8] == PNG, name
    return json.loads((out / "metrics.json").read_text(encoding="utf-8"))


def test_lotka_volterra_ude_quick(tmp_path, capsys):
    metrics = load(ROOT / "examples" / "lotka_volterra_ude.py").main(
        ["--quick", "--out", str(tmp_path), "--no-progress"])
    assert "discovered (after refit)" in capsys.readouterr().out
    saved = check_files(tmp_path, ("metrics.json", "data.npz", "ude.pt", "node.pt", "trajectories.png",
                                   "missing_term.png", "history_ude.png", "history_node.png"))
    assert saved["beta"] == pytest.approx(metrics["beta"])
    assert saved["beta_relative_error"] == pytest.approx(abs(saved["beta"] - 0.9) / 0.9)
    assert saved["gamma_relative_error"] == pytest.approx(abs(saved["gamma"] - 0.8) / 0.8)
    bics = [c["bic"] for c in saved["candidates"]]
    chosen = [c for c in saved["candidates"] if c["bic"] == min(bics)][0]
    assert chosen["refitted"] == saved["equations"]
    with np.load(tmp_path / "data.npz") as data:
        later = data["t_long"] > 3
        truth = data["truth"][later]
        for key, name in (("ude", "UDE (network)"), ("neural", "neural ODE")):
            error = np.linalg.norm(data[key][later] - truth) / np.linalg.norm(truth)
            recorded = saved["relative_l2_errors"][name]["extrapolation_3_6"]
            assert recorded is None or recorded == pytest.approx(error, rel=1e-9)
        assert data["observed"].shape == (30, 2) and data["t"][-1] == pytest.approx(3.0)
    assert saved["ude_steps"] >= 30 and saved["quick"] is True


def test_neural_sde_ou_quick(tmp_path, capsys):
    load(ROOT / "examples" / "neural_sde_ou.py").main(["--quick", "--out", str(tmp_path), "--no-progress"])
    assert "theta =" in capsys.readouterr().out
    saved = check_files(tmp_path, ("metrics.json", "fit.pt", "drift_diffusion.png", "moments.png", "history.png"))
    for name, true in (("theta", 1.0), ("mu", 0.5), ("sigma", 0.3)):
        assert saved[f"{name}_relative_error"] == pytest.approx(abs(saved[name] - true) / true)
    assert saved["sigma"] > 0 and saved["method"] == "transition" and saved["paths"] == 40
    assert saved["drift_equation"].startswith("drift = ")


def test_neural_ode_spiral_quick(tmp_path, capsys):
    load(ROOT / "examples" / "neural_ode_spiral.py").main(["--quick", "--out", str(tmp_path), "--no-progress"])
    assert "adjoint vs direct" in capsys.readouterr().out
    saved = check_files(tmp_path, ("metrics.json", "spiral.png", "history_direct.png", "history_adjoint.png",
                                   "direct.pt", "adjoint.pt"))
    assert saved["first_gradient_relative_difference"] < 1e-4  # equal up to the solver tolerance (1e-6)
    assert saved["direct_trajectory_relative_l2_error"] > 0 and saved["adjoint_trajectory_relative_l2_error"] > 0


def test_ode_adjoint_benchmark_quick(tmp_path, capsys):
    result = load(ROOT / "benchmarks" / "ode_adjoint.py").main(["--quick", "--json", str(tmp_path / "b.json")])
    assert json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))["rows"] == result["rows"]
    small, large = result["rows"]
    # the graph held between forward and backward: linear in the steps for direct backpropagation (4x the
    # steps, 4x the bytes up to the parameters), the same small size for the adjoint whatever the steps
    assert 3 * small["direct_graph_bytes"] < large["direct_graph_bytes"] < 5 * small["direct_graph_bytes"]
    assert large["adjoint_graph_bytes"] == small["adjoint_graph_bytes"] < small["direct_graph_bytes"] / 5
    # the adjoint integrates the continuous adjoint equation with RK4: it approaches the direct (discrete)
    # gradient at the method's order as the steps shrink (4x the steps: about 4^4 = 256x closer)
    assert large["gradient_relative_difference"] < small["gradient_relative_difference"] / 16
    assert large["gradient_relative_difference"] < 1e-5
