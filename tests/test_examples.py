"""The examples run and produce what they promise (their quick settings, a few seconds each)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
COLLOCATION = ROOT / "examples" / "collocation_points.py"
QUICK = {"interior": 500, "boundary": 50, "initial": 50}
METHODS = ("uniform", "random", "lhs", "sobol", "halton", "hammersley")


def load_example(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> tuple[Path, str]:
    """The README's main example run as a user would: a separate process, ``--quick``; (output dir, stdout)."""
    out = tmp_path_factory.mktemp("collocation") / "out"
    env = dict(os.environ)  # the package importable even without `pip install -e .`
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run([sys.executable, str(COLLOCATION), "--quick", "--out", str(out)], cwd=out.parent,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return out, proc.stdout


def test_collocation_writes_its_files(quick_run):
    out, stdout = quick_run
    for name in ("points.npz", "metrics.json", "collocation_points.png"):
        assert (out / name).is_file(), name
    assert (out / "collocation_points.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "L2-star discrepancy" in stdout and "wrote" in stdout


def test_collocation_metrics(quick_run):
    metrics = json.loads((quick_run[0] / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["method"] == "sobol" and metrics["seed"] == 0
    assert metrics["counts"] == QUICK
    assert metrics["unique"] == QUICK
    assert metrics["interior_inside_fraction"] == 1.0
    assert metrics["boundary_on_boundary_fraction"] == 1.0
    assert metrics["initial_on_initial_fraction"] == 1.0
    assert metrics["max_normal_error"] < 1e-6
    assert metrics["boundary_sides"] == {"x=-1": 25, "x=+1": 25}
    assert metrics["discrepancy_n"] == QUICK["interior"]
    assert set(metrics["discrepancy"]) == set(METHODS)
    plate = metrics["plate"]
    assert plate["unique"] == plate["counts"]
    assert plate["interior_inside_fraction"] == 1.0 and plate["boundary_on_boundary_fraction"] == 1.0
    assert plate["max_normal_error"] < 1e-6


def test_collocation_low_discrepancy_beats_random(quick_run):
    disc = json.loads((quick_run[0] / "metrics.json").read_text(encoding="utf-8"))["discrepancy"]
    assert all(0 < value < 1 for value in disc.values())
    for method in ("sobol", "halton", "hammersley"):
        assert disc[method] < disc["random"] / 2, (method, disc)


def test_collocation_points(quick_run):
    with np.load(quick_run[0] / "points.npz") as data:
        arrays = {name: data[name] for name in data.files}
    interior, boundary, initial, normals = (arrays[k] for k in ("interior", "boundary", "initial",
                                                                 "boundary_normals"))
    assert interior.shape == (QUICK["interior"], 2)
    assert boundary.shape == normals.shape == (QUICK["boundary"], 2)
    assert initial.shape == (QUICK["initial"], 2)
    for points in (interior, boundary, initial):
        assert len(np.unique(points, axis=0)) == len(points)
    x, t = interior.T
    assert np.all((-1 <= x) & (x <= 1) & (0 <= t) & (t <= 1))
    assert np.all(np.abs(boundary[:, 0]) == 1)
    assert np.all((0 <= boundary[:, 1]) & (boundary[:, 1] <= 1))
    np.testing.assert_array_equal(normals, np.stack([np.sign(boundary[:, 0]), np.zeros(len(boundary))], axis=1))
    assert np.all(initial[:, 1] == 0)
    assert np.all((-1 < initial[:, 0]) & (initial[:, 0] < 1))
    assert {"plate_interior", "plate_boundary", "plate_normals"} <= set(arrays)
    np.testing.assert_allclose(np.linalg.norm(arrays["plate_normals"], axis=1), 1, atol=1e-6)


def test_collocation_main_in_process_is_reproducible(quick_run, tmp_path, monkeypatch, capsys):
    """``main(argv)`` called in-process gives the same points as the command line run (same seed)."""
    monkeypatch.syspath_prepend(str(ROOT))
    metrics = load_example(COLLOCATION).main(["--quick", "--out", str(tmp_path)])
    assert "wrote" in capsys.readouterr().out
    assert metrics["counts"] == QUICK
    with np.load(quick_run[0] / "points.npz") as first, np.load(tmp_path / "points.npz") as second:
        assert first.files == second.files
        for name in first.files:
            np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def test_collocation_rejects_bad_arguments(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    main = load_example(COLLOCATION).main
    for argv in (["--method", "grid"], ["--n-interior", "0"], ["--n-boundary", "-3"], ["--seed", "-1"]):
        with pytest.raises(SystemExit) as info:
            main([*argv, "--out", str(tmp_path)])
        assert info.value.code == 2, argv


BURGERS = ROOT / "examples" / "burgers.py"


def test_burgers_quick_run_writes_a_loadable_model(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT))
    metrics = load_example(BURGERS).main(["--quick", "--out", str(tmp_path), "--no-progress"])
    assert "relative L2 error" in capsys.readouterr().out
    for name in ("model.pt", "metrics.json", "solution.npz", "history.png", "solution.png"):
        assert (tmp_path / name).is_file(), name
    saved = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert saved["steps"] == metrics["steps"] >= 200 and saved["parameters"] == 16 * 2 + 16 + 16 * 16 + 16 + 17
    assert 0 < saved["l2_relative_error"] < 1.0  # a smoke run: it learns something, not the target accuracy
    import pinnkit as pk

    with np.load(tmp_path / "solution.npz") as data:
        x, t, u_pred = data["x"], data["t"], data["u_pred"]
    grid = np.stack(np.meshgrid(x, t, indexing="ij"), axis=-1).reshape(-1, 2)
    np.testing.assert_allclose(pk.load(tmp_path / "model.pt").predict(grid)[:, 0], u_pred.reshape(-1), rtol=0,
                               atol=1e-6)
    # the error in metrics.json is the one of the saved prediction against the exact solution
    from pinnkit.pde.references import burgers_exact_grid

    _, _, u_ref = burgers_exact_grid()
    assert saved["l2_relative_error"] == pytest.approx(np.linalg.norm(u_pred - u_ref) / np.linalg.norm(u_ref))


def test_burgers_quick_run_with_the_taylor_backend_follows_autograd(tmp_path, monkeypatch):
    """The hard-constrained example through Taylor-mode derivatives: the same training to round-off, as long as
    the trajectories have not yet diverged chaotically (a short run)."""
    monkeypatch.syspath_prepend(str(ROOT))
    example = load_example(BURGERS)
    runs = {b: example.main(["--quick", "--steps", "30", "--lbfgs-steps", "0", "--backend", b, "--out",
                             str(tmp_path / b), "--no-progress"]) for b in ("autograd", "taylor")}
    assert runs["taylor"]["backend"] == "taylor"
    assert runs["taylor"]["l2_relative_error"] == pytest.approx(runs["autograd"]["l2_relative_error"], rel=1e-8)


def test_burgers_inverse_quick_run(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT))
    metrics = load_example(ROOT / "examples" / "burgers_inverse.py").main(
        ["--quick", "--out", str(tmp_path), "--no-progress", "--observations", "300"])
    assert "lambda1" in capsys.readouterr().out
    saved = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert [r["noise"] for r in saved["runs"]] == [0.0, 0.01] == [r["noise"] for r in metrics["runs"]]
    for run in saved["runs"]:
        assert run["nu"] > 0 and np.isfinite(run["lambda1"])
        assert run["nu_relative_error"] == pytest.approx(abs(run["nu"] - 0.01 / np.pi) / (0.01 / np.pi))
        assert (tmp_path / f"model_noise{run['noise']:g}.pt").is_file()


@pytest.mark.parametrize("ends", [False, True])
def test_poisson_1d_quick_run(tmp_path, monkeypatch, capsys, ends):
    """DeepXDE's Poisson demo ported: the quick run writes its files, its error is that of the saved model, and
    --ends puts the PDE at the two ends too (18 points, as DeepXDE's num_domain=16, num_boundary=2)."""
    import pinnkit as pk

    monkeypatch.syspath_prepend(str(ROOT))
    example = load_example(ROOT / "examples" / "poisson_1d.py")
    metrics = example.main(["--quick", "--out", str(tmp_path), "--no-progress"] + (["--ends"] if ends else []))
    assert "relative L2 error" in capsys.readouterr().out
    for name in ("model.pt", "metrics.json", "history.png", "solution.png"):
        assert (tmp_path / name).is_file(), name
    x = np.linspace(-1, 1, 100)[:, None]
    u = pk.load(tmp_path / "model.pt").predict(x)
    assert metrics["l2_relative_error"] == pytest.approx(np.linalg.norm(u - example.exact(x))
                                                         / np.linalg.norm(example.exact(x)), rel=1e-5)
    trainer = example.build(argparse.Namespace(seed=0, ends=ends, width=4, depth=1, points=16, dtype="float32",
                                               device="cpu", rba=False))
    assert len(trainer.sampler.points(0)) == (18 if ends else 16)


def test_lorenz_inverse_quick_run(tmp_path, monkeypatch, capsys):
    """The observations solve the Lorenz system with the true coefficients; the quick run writes its files and
    relative errors of the values it identified."""
    monkeypatch.syspath_prepend(str(ROOT))
    example = load_example(ROOT / "examples" / "lorenz_inverse.py")
    t, u = example.observations(25)
    assert t.shape == (25, 1) and u.shape == (25, 3) and u[0].tolist() == list(example.START)
    du = np.gradient(u, t[:, 0], axis=0, edge_order=2)
    c1, c2, c3 = example.TRUE.values()
    rhs = np.stack([c1 * (u[:, 1] - u[:, 0]), u[:, 0] * (c2 - u[:, 2]) - u[:, 1], u[:, 0] * u[:, 1] - c3 * u[:, 2]],
                   axis=1)
    assert np.abs(du - rhs)[2:-2].max() < 0.05 * np.abs(rhs).max()  # finite differences of the data fit the ODE
    metrics = example.main(["--quick", "--out", str(tmp_path), "--no-progress"])
    assert "C1 =" in capsys.readouterr().out
    for name in ("model.pt", "metrics.json", "history.png"):
        assert (tmp_path / name).is_file(), name
    for k, v in metrics["identified"].items():
        assert metrics["relative_errors"][k] == pytest.approx(abs(v - example.TRUE[k]) / example.TRUE[k])


def check_outputs(out: Path, reference) -> dict:
    """The example's files exist, its model loads and reproduces the saved prediction, and the error in
    metrics.json is the saved prediction's error against ``reference`` (nx, nt)."""
    import pinnkit as pk

    for name in ("model.pt", "metrics.json", "solution.npz", "history.png", "solution.png"):
        assert (out / name).is_file(), name
    saved = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    with np.load(out / "solution.npz") as data:
        x, t, u_pred, u_ref = data["x"], data["t"], data["u_pred"], data["u_ref"]
    np.testing.assert_allclose(u_ref, reference(x, t), atol=1e-9)
    grid = np.stack(np.meshgrid(x, t, indexing="ij"), axis=-1).reshape(-1, 2)
    np.testing.assert_allclose(pk.load(out / "model.pt").predict(grid)[:, 0], u_pred.reshape(-1), atol=1e-6)
    assert saved["l2_relative_error"] == pytest.approx(np.linalg.norm(u_pred - u_ref) / np.linalg.norm(u_ref))
    return saved


@pytest.mark.parametrize("sampler", ["fixed", "r3", "causal_r3", "causal"])
def test_convection_quick_runs_with_every_sampler(tmp_path, monkeypatch, capsys, sampler):
    monkeypatch.syspath_prepend(str(ROOT))
    load_example(ROOT / "examples" / "convection.py").main(
        ["--quick", "--sampler", sampler, "--beta", "5", "--out", str(tmp_path), "--no-progress"])
    assert f"{sampler}: relative L2 error" in capsys.readouterr().out
    saved = check_outputs(tmp_path, lambda x, t: np.sin(x[:, None] - 5 * t[None, :]))
    assert saved["sampler"] == sampler and saved["windows"] == 2 == len(saved["window_errors"])
    assert 120 <= saved["steps"] <= 2 * (60 + 15) and saved["beta"] == 5  # L-BFGS may stop early
    assert ("causal_beta" in saved) == (sampler == "causal_r3")
    assert ("causal_epsilon" in saved) == (sampler == "causal")


@pytest.mark.parametrize("windows", [1, 2])
def test_allen_cahn_quick_run_with_and_without_time_marching(tmp_path, monkeypatch, windows):
    monkeypatch.syspath_prepend(str(ROOT))
    from pinnkit.pde.references import allen_cahn_solution

    load_example(ROOT / "examples" / "allen_cahn.py").main(
        ["--quick", "--windows", str(windows), "--out", str(tmp_path), "--no-progress"])
    saved = check_outputs(tmp_path, lambda x, t: allen_cahn_solution(x[:, None], t[None, :]))
    assert saved["windows"] == windows == len(saved["window_errors"]) and saved["steps"] == 100 * windows
    assert saved["causal_epsilon"] == 1.0
    curve = saved["error_curve"]  # [steps, seconds, error up to each window's end]: the last is the whole grid's
    assert [c[0] for c in curve] == [100 * (k + 1) for k in range(windows)]
    assert curve[-1][2] == pytest.approx(saved["l2_relative_error"], rel=1e-12)


def test_convection_seeds_benchmark_runs(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT))
    rows = load_example(ROOT / "benchmarks" / "convection_seeds.py").main(
        ["--samplers", "fixed", "r3", "--seeds", "0", "--", "--quick", "--steps", "20"])
    assert [r["sampler"] for r in rows] == ["fixed", "r3"]
    assert "median" in capsys.readouterr().out


def test_accuracy_frontier_benchmark_writes_curves(tmp_path, monkeypatch):
    """The frontier benchmark's smoke run: per recipe a curve of errors against increasing times, the final
    error the last point's, DeepXDE's demo beside pinnkit's runs, and the JSON and the picture written."""
    monkeypatch.syspath_prepend(str(ROOT))
    report = load_example(ROOT / "benchmarks" / "accuracy_frontier.py").main(
        ["--quick", "--cases", "poisson_1d", "--recipes", "lbfgs", "ssbroyden_rba", "--deepxde-every", "50",
         "--out", str(tmp_path)])
    runs = report["runs"]["poisson_1d"]
    assert [r["recipe"] for r in runs] == ["lbfgs", "ssbroyden_rba", "deepxde"]
    for run in runs:
        steps, seconds, errors = np.asarray(run["curve"]).T
        assert len(steps) >= 4 and np.all(np.diff(steps) > 0) and np.all(np.diff(seconds) > 0)
        assert np.all(np.isfinite(errors)) and errors[-1] == run["errors"]["l2_relative_error"]
        assert errors[-1] < errors[0]  # training lowers the error from the first logged step
    assert runs[0]["steps"] == 250 and "--rba" in runs[1]["argv"] and "--rba" not in runs[0]["argv"]
    saved = json.loads((tmp_path / "accuracy_frontier.json").read_text())
    assert saved["runs"]["poisson_1d"][1]["curve"] == runs[1]["curve"]
    assert (tmp_path / "accuracy_frontier.png").stat().st_size > 10_000
