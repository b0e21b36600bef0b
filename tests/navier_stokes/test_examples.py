"""The Navier–Stokes examples run with ``--quick`` and write what they promise: a model that loads and
reproduces the saved prediction, and errors in metrics.json that are those of the saved prediction."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import pinnkit as pk
from pinnkit.pde.references import beltrami_solution, kovasznay_solution, taylor_green_solution

ROOT = Path(__file__).resolve().parents[2]


def load_example(name: str) -> ModuleType:
    path = ROOT / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_kovasznay_quick(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT))
    metrics = load_example("kovasznay").main(["--quick", "--out", str(tmp_path), "--no-progress"])
    assert "relative L2 error u" in capsys.readouterr().out
    for name in ("model.pt", "metrics.json", "solution.npz", "history.png", "solution_u.png", "solution_v.png",
                 "solution_p.png"):
        assert (tmp_path / name).is_file(), name
    saved = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert saved["steps"] == metrics["steps"] and 100 <= saved["steps"] <= 120
    assert saved["boundary_weight"] == 10.0 and saved["cpu_time_s"] > 0
    with np.load(tmp_path / "solution.npz") as data:
        x, y, pred, ref = data["x"], data["y"], data["pred"], data["ref"]
    points = np.stack(np.meshgrid(x, y, indexing="ij"), axis=-1).reshape(-1, 2)
    np.testing.assert_allclose(ref.reshape(-1, 3), kovasznay_solution(points), atol=1e-12)
    np.testing.assert_allclose(pk.load(tmp_path / "model.pt").predict(points), pred.reshape(-1, 3), atol=1e-6)
    assert saved["l2_relative_error_u"] == pytest.approx(relative(pred[..., 0], ref[..., 0]))
    p_pred, p_ref = pred[..., 2] - pred[..., 2].mean(), ref[..., 2] - ref[..., 2].mean()
    assert saved["l2_relative_error_p"] == pytest.approx(relative(p_pred, p_ref))
    assert 0 < saved["l2_relative_error_v"] < 2


def test_beltrami_quick(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT))
    example = load_example("beltrami")
    example.main(["--quick", "--out", str(tmp_path), "--no-progress"])
    assert "relative L2 error u" in capsys.readouterr().out
    for name in ("model.pt", "metrics.json", "solution.npz", "history.png", "solution_u.png", "solution_v.png",
                 "solution_w.png"):
        assert (tmp_path / name).is_file(), name
    saved = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    points = example.test_points()
    model = pk.load(tmp_path / "model.pt")
    pred, ref = model.predict(points), beltrami_solution(points)
    for k, name in enumerate("uvw"):
        assert saved[f"l2_relative_error_{name}"] == pytest.approx(relative(pred[:, k], ref[:, k]), rel=1e-6)
    with np.load(tmp_path / "solution.npz") as data:
        s, slice_pred, slice_ref = data["x"], data["pred"], data["ref"]
    plane = np.stack(np.meshgrid(s, s, indexing="ij"), axis=-1).reshape(-1, 2)
    at = np.concatenate([plane, np.zeros((len(plane), 1)), np.ones((len(plane), 1))], axis=1)  # z = 0, t = 1
    np.testing.assert_allclose(slice_ref.reshape(-1, 4), beltrami_solution(at), atol=1e-12)
    np.testing.assert_allclose(model.predict(at), slice_pred.reshape(-1, 4), atol=1e-6)


def test_navier_stokes_inverse_quick(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT))
    example = load_example("navier_stokes_inverse")
    metrics = example.main(["--quick", "--out", str(tmp_path), "--no-progress", "--observations", "300"])
    assert "lambda" in capsys.readouterr().out
    saved = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert [r["noise"] for r in saved["runs"]] == [0.0, 0.01] == [r["noise"] for r in metrics["runs"]]
    assert saved["data_weight"] == example.DEFAULTS["data_weight"]
    for name in ("model.pt", "model_noise0.pt", "model_noise0.01.pt", "history_noise0.png", "solution_u.png"):
        assert (tmp_path / name).is_file(), name
    points = example.test_points()
    for run, tag in zip(saved["runs"], ("0", "0.01"), strict=True):
        assert np.isfinite(run["lambda"]) and run["nu_relative_error"] == pytest.approx(abs(run["nu"] - 0.05) / 0.05)
        pred = pk.load(tmp_path / f"model_noise{tag}.pt").predict(points)
        ref = taylor_green_solution(points, 0.05, wavenumber=np.pi, drift=(1.0, 0.5))
        assert run["l2_relative_error_u"] == pytest.approx(relative(pred[:, 0], ref[:, 0]), rel=1e-6)
    np.testing.assert_array_equal(pk.load(tmp_path / "model.pt").predict(points),
                                  pk.load(tmp_path / "model_noise0.pt").predict(points))


def test_observations_are_the_exact_flow_plus_the_asked_noise():
    example = load_example("navier_stokes_inverse")
    points, clean = example.observations(4000, 0.0, 3)
    np.testing.assert_array_equal(clean, taylor_green_solution(points, 0.05, wavenumber=np.pi, drift=(1.0, 0.5))[:, :2])
    _, noisy = example.observations(4000, 0.01, 3)
    ratio = (noisy - clean).std(axis=0) / clean.std(axis=0)
    np.testing.assert_allclose(ratio, 0.01, rtol=0.05)
    assert np.all(np.abs(points[:, :2]) <= 1) and np.all((points[:, 2] >= 0) & (points[:, 2] <= 1))


@pytest.mark.parametrize("name, argv", [("kovasznay", ["--points", "0"]), ("beltrami", ["--steps", "-1"]),
                                        ("navier_stokes_inverse", ["--noise", "-0.1"]),
                                        ("navier_stokes_inverse", ["--data-weight", "0"]),
                                        ("kovasznay", ["--boundary-weight", "-1"])])
def test_bad_arguments(tmp_path, name, argv):
    with pytest.raises(SystemExit) as info:
        load_example(name).main([*argv, "--out", str(tmp_path)])
    assert info.value.code == 2


def test_inverse_setting_residual_is_minimised_at_the_true_coefficients_only():
    """The residual of the example's exact flow is affine in (lambda, nu): r = a + lambda b - nu c. Its
    least-squares minimiser over scattered points is the true (1, 0.05), and the 2 x 2 normal matrix is well
    conditioned (both coefficients are visible in the residual, not only through a slow decay)."""
    import torch

    example = load_example("navier_stokes_inverse")
    points = torch.as_tensor(example.observations(500, 0.0, 7)[0])
    problem = pk.Problem(pk.geometry.Rectangle([-1, -1], [1, 1]) * pk.geometry.TimeDomain(0, 1),
                         pk.pde.equations.navier_stokes("nu", convection="lam", steady=False),
                         outputs=("u", "v", "p"), parameters={"lam": 0.0, "nu": 0.0})
    class Exact(torch.nn.Module):
        def forward(self, x):
            return example.exact(x)

    def residual(lam: float, nu: float) -> torch.Tensor:
        parameters = {"lam": torch.tensor(lam, dtype=torch.float64), "nu": torch.tensor(nu, dtype=torch.float64)}
        r = problem.evaluator(Exact(), "autograd", parameters).residuals(problem.batch(points, {}))
        return torch.cat([r["momentum_x"], r["momentum_y"]]).detach().numpy()

    a = residual(0.0, 0.0)
    design = np.stack([residual(1.0, 0.0) - a, residual(0.0, 1.0) - a], axis=1)
    (lam, nu), *_ = np.linalg.lstsq(design, -a, rcond=None)
    assert lam == pytest.approx(1.0, abs=1e-10) and nu == pytest.approx(0.05, abs=1e-10)
    assert np.linalg.cond(design) < 100
    assert np.abs(residual(1.0, 0.0505)).max() > 1e-3  # a 1 % change of nu shows in the residual
