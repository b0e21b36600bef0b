"""examples/lid_driven_cavity.py: its quick runs write what the example promises, with the walls exact."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

import pinnkit as pk
from pinnkit.pde.references import ghia_deviation, lid_driven_cavity

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "lid_driven_cavity.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_lid_driven_cavity", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_example()


@pytest.mark.parametrize("lid", ["uniform", "parabolic"])
def test_quick_run_writes_a_loadable_model_and_the_centerlines(example, lid, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    metrics = example.main(["--quick", "--lid", lid, "--out", str(tmp_path), "--no-progress"])
    for name in ("model.pt", "metrics.json", "centerlines.csv", "solution.npz", "history.png", "solution_u.png",
                 "solution_v.png", "solution_p.png", "centerlines.png"):
        assert (tmp_path / name).is_file(), name
    assert json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8")) == json.loads(json.dumps(metrics))
    assert metrics["steps"] == example.QUICK["adam"] + metrics["lbfgs_iterations"] and metrics["lid"] == lid

    with (tmp_path / "centerlines.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["which"] for r in rows] == ["u"] * 129 + ["v"] * 129
    coords = np.array([float(r["coord"]) for r in rows])
    values = np.array([float(r["value"]) for r in rows])
    stations = np.linspace(0, 1, 129)
    np.testing.assert_array_equal(coords, np.concatenate([stations, stations]))

    # the saved model reproduces the centrelines, and its walls are exact
    model = pk.load(tmp_path / "model.pt")  # a HardConstraint of Expressions: rebuilt from the checkpoint alone
    u_line = model.predict(np.stack([np.full(129, 0.5), stations], axis=1))[:, 0]
    v_line = model.predict(np.stack([stations, np.full(129, 0.5)], axis=1))[:, 1]
    np.testing.assert_allclose(values, np.concatenate([u_line, v_line]), rtol=0, atol=1e-12)
    assert u_line[0] == 0.0 and v_line[0] == 0.0 and v_line[-1] == 0.0
    lid_u = 1.0 if lid == "uniform" else 4 * 0.5 * 0.5
    assert abs(u_line[-1] - lid_u) < 1e-15

    # the recorded errors are those of the written fields against an independent solve of the reference
    classical = lid_driven_cavity(129, 100.0, lid)
    assert metrics["centerline_max_abs_error_u"] == pytest.approx(np.abs(u_line - classical.u[64]).max(), abs=1e-12)
    assert metrics["centerline_max_abs_error_v"] == pytest.approx(np.abs(v_line - classical.v[:, 64]).max(), abs=1e-12)
    if lid == "parabolic":
        with np.load(example.PINNACLE) as data:
            points = np.stack([data["x"], data["y"]], axis=1)
            ref = np.stack([data["u"], data["v"], data["p"]], axis=1)
        pred = model.predict(points)
        pred[:, 2] += np.mean(ref[:, 2] - pred[:, 2])
        pooled = np.linalg.norm(pred - ref) / np.linalg.norm(ref)
        assert metrics["pinnacle"]["l2_relative_pooled"] == pytest.approx(pooled, rel=1e-10)
        assert "pooled" in capsys.readouterr().out


def test_quick_run_at_re_1000_is_measured_against_its_own_reference_and_ghia(example, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    metrics = example.main(["--quick", "--reynolds", "1000", "--out", str(tmp_path), "--no-progress"])
    assert metrics["reynolds"] == 1000.0 and metrics["reference_nodes"] == example.QUICK_REFERENCE_NODES
    assert "Re = 1000" in metrics["target"]
    model = pk.load(tmp_path / "model.pt")
    shipped = ghia_deviation(model.predict, 1000)
    assert metrics["ghia_max_abs_error_u"] == pytest.approx(shipped["u"], abs=1e-12)
    assert metrics["ghia_max_abs_error_v"] == pytest.approx(shipped["v"], abs=1e-12)
    assert metrics["target_met"] == (max(shipped.values()) <= example.GHIA_TARGET_RE1000)
    # the centreline errors are taken against an independent solve of the Re = 1000 flow
    classical = lid_driven_cavity(example.QUICK_REFERENCE_NODES, 1000.0)
    assert classical.reynolds_path[-1] == 1000.0
    u_line = model.predict(np.stack([np.full(classical.n, 0.5), classical.y], axis=1))[:, 0]
    mid = (classical.n - 1) // 2
    assert metrics["centerline_max_abs_error_u"] == pytest.approx(np.abs(u_line - classical.u[mid]).max(), abs=1e-12)


@pytest.mark.parametrize("lid", ["uniform", "parabolic"])
def test_walls_are_hard_constraints_for_any_weights(example, lid):
    torch.manual_seed(1)
    net = example.cavity_net(lid, 8, 2).double()
    s = torch.rand(50, dtype=torch.float64)
    zero, one = torch.zeros_like(s), torch.ones_like(s)
    walls = {"bottom": (s, zero), "left": (zero, s), "right": (one, s)}
    for x, y in walls.values():
        out = net(torch.stack([x, y], dim=1))
        assert torch.all(out[:, :2] == 0)
    out = net(torch.stack([s, one], dim=1))
    expected = (1 - torch.abs(2 * s - 1) ** 16) ** 2 if lid == "uniform" else 4 * s * (1 - s)
    torch.testing.assert_close(out[:, 0], expected, rtol=0, atol=1e-15)
    assert torch.all(out[:, 1] == 0)


def test_bad_arguments_are_rejected(example, tmp_path):
    for argv in (["--lid", "round"], ["--steps", "-1"], ["--width", "0"], ["--lid-exponent", "1"],
                 ["--lid", "parabolic", "--reference", str(tmp_path / "missing.npz")],
                 ["--reynolds", "400"], ["--lid", "parabolic", "--reynolds", "1000"]):
        with pytest.raises(SystemExit):
            example.parse_args(argv + ["--out", str(tmp_path)])


def test_corner_refined_points_cluster_at_the_lid_corners_with_bounded_weights(example):
    sampler = example.CornerRefinedPoints(1000, corner_fraction=0.2, r_min=1e-3, r_max=0.1)
    sampler.setup(pk.geometry.Rectangle([0.0, 0.0], [1.0, 1.0]), np.random.default_rng(0), torch.float64, "cpu")
    points = sampler.points(0)
    weights = sampler.weighting().values
    assert points.shape == (1000, 2) and weights.shape == (1000,)
    assert torch.all((points >= 0) & (points <= 1))
    cluster = points[800:]
    r = torch.minimum(torch.hypot(cluster[:, 0], 1 - cluster[:, 1]), torch.hypot(1 - cluster[:, 0], 1 - cluster[:, 1]))
    assert torch.all((r >= 1e-3 * (1 - 1e-12)) & (r <= 0.1 * (1 + 1e-12)))
    torch.testing.assert_close(weights[800:], (r / 0.1) ** 2, rtol=1e-12, atol=0)
    assert torch.all(weights[:800] == 1)
    assert (cluster[:, 0] < 0.5).sum() == 100  # half at each corner
    with pytest.raises(ValueError, match="corner_fraction"):
        example.CornerRefinedPoints(100, corner_fraction=1.0)
