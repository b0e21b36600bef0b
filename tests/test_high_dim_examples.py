"""examples/high_dim_poisson.py, high_dim_allen_cahn.py and high_dim_hjb.py run (``--quick``) and write what they
promise; so does benchmarks/high_dim.py on small d."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load(name: str, folder: str = "examples"):
    sys.path.insert(0, str(ROOT / folder))
    try:
        spec = importlib.util.spec_from_file_location(f"{folder}_{name}", ROOT / folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / folder))


@pytest.mark.parametrize("equation", ["poisson", "allen_cahn"])
def test_high_dim_example_quick(equation, tmp_path):
    module = load("high_dim_poisson")
    metrics = module.main(["--quick", "--dim", "300", "--out", str(tmp_path)], equation=equation)
    assert metrics["equation"] == equation and metrics["dim"] == 300 and metrics["directions"] == 16
    assert math.isfinite(metrics["l2_relative_error"]) and metrics["l2_relative_error"] < 1.5
    assert 0 < metrics["baseline_l2_relative_error"] < 1  # the best C (1 - |x|^2) is closer than zero
    assert metrics["l2_error_over_baseline"] == pytest.approx(metrics["l2_relative_error"]
                                                              / metrics["baseline_l2_relative_error"])
    for name in ("metrics.json", "history.json", "convergence.png"):
        assert (tmp_path / name).is_file(), name
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 30


def test_sample_ball_radius_laws():
    import torch

    module = load("high_dim_poisson")
    for sampling, median in (("radial", 0.5), ("volume", 0.5 ** (1 / 50))):
        x = module.sample_ball(4000, 50, torch.Generator().manual_seed(0), torch.float64, "cpu", sampling)
        r = torch.linalg.vector_norm(x, dim=1)
        assert x.shape == (4000, 50) and float(r.max()) <= 1.0
        # "radial": |x| ~ U(0, 1), median 1/2 (the radius's standard error is 0.5/sqrt(4000) ~ 0.008);
        # "volume": P(|x| <= s) = s^d, median 0.5^(1/d) (spread ~ 1/(d sqrt(n)))
        assert abs(float(r.median()) - median) < (0.03 if sampling == "radial" else 2e-3), sampling
        # directions are uniform: each mean of x_i / |x| is 0 with standard error 1/sqrt(n d) ~ 0.002
        assert float((x / r[:, None]).mean(0).abs().max()) < 0.015


def test_high_dim_benchmark_measures_each_configuration_in_a_child(tmp_path):
    bench = load("high_dim", "benchmarks")
    results = bench.main(["--dims", "4", "--methods", "stde", "reverse", "--steps", "1", "--repeats", "1",
                          "--warmup", "0", "--json", str(tmp_path / "b.json"), "--plot", str(tmp_path / "b.png")])
    for method in ("stde", "reverse"):
        run = results["runs"]["4"][method]
        assert run["s_per_step"] > 0 and run["peak_bytes"] >= 0 and run["steps_timed"] >= 1, run
        assert run["parameters"] == 4 * 128 + 3 * 128**2 + 4 * 128 + 128 + 1
    assert json.loads((tmp_path / "b.json").read_text())["runs"]["4"]["stde"] == results["runs"]["4"]["stde"]
    assert (tmp_path / "b.png").stat().st_size > 0
    assert "reverse/stde time" in bench.table(results)


def test_high_dim_benchmark_stops_a_method_that_runs_over_time():
    bench = load("high_dim", "benchmarks")
    results = bench.main(["--dims", "4", "8", "--methods", "stde", "--max-seconds", "0.01"])
    assert results["runs"]["4"]["stde"] == {"failed": "over time (> 0.01 s)"}
    assert results["runs"]["8"]["stde"]["failed"].startswith("not run (over time")


def test_high_dim_hjb_example_quick(tmp_path):
    module = load("high_dim_hjb")
    metrics = module.main(["--quick", "--dim", "20", "--steps", "10", "--out", str(tmp_path)])
    assert metrics["dim"] == 20 and metrics["directions"] == 16 and metrics["steps"] == 10
    assert math.isfinite(metrics["l2_relative_error"]) and metrics["l2_relative_error"] < 1.0
    assert 0 < metrics["reference_l2_relative_standard_error"] < 1e-2
    for name in ("metrics.json", "history.json", "convergence.png"):
        assert (tmp_path / name).is_file(), name
    history = json.loads((tmp_path / "history.json").read_text())
    assert history[-1]["step"] == 10 and all(math.isfinite(h["l2_relative_error"]) for h in history)


def test_high_dim_hjb_points_and_terminal_condition():
    import torch

    module = load("high_dim_hjb")
    from pinnkit.pde.references import HJBLQG

    xt = module.sample_points(4000, 30, 0.5, torch.Generator().manual_seed(0), torch.float64, "cpu")
    assert xt.shape == (4000, 31)
    t = xt[:, 30]
    assert float(t.min()) >= 0.0 and float(t.max()) <= 0.5 and abs(float(t.mean()) - 0.25) < 0.01
    assert abs(float(xt[:, :30].std()) - 1.0) < 0.01
    # --spread 3: x ~ N(0, s I) with s ~ U(1, 3), so |x|^2 / d has mean E[s] = 2
    spread = module.sample_points(4000, 30, 0.5, torch.Generator().manual_seed(1), torch.float64, "cpu", 3.0)
    assert abs(float((spread[:, :30] ** 2).sum(-1).mean()) / 30 - 2.0) < 0.05
    problem = HJBLQG(30, horizon=0.5)
    net = module.make_net(problem, 8, 1).double()
    at_end = torch.cat([xt[:5, :30], torch.full((5, 1), 0.5, dtype=torch.float64)], dim=1)
    torch.testing.assert_close(net(at_end)[:, 0], problem.terminal_value(at_end[:, :30]), rtol=0, atol=0)


def test_high_dim_benchmark_reports_a_configuration_past_its_memory_limit():
    bench = load("high_dim", "benchmarks")
    # exact jets at d = 30000 hold (N, d, width) arrays of 1.5 GB each: past a 2 GiB address space
    results = bench.main(["--dims", "30000", "--methods", "jets", "--steps", "1", "--repeats", "1", "--warmup", "0",
                          "--max-memory-gib", "2"])
    assert results["runs"]["30000"]["jets"] == {"failed": "out of memory"}


@pytest.mark.parametrize("equation", ["poisson", "allen_cahn"])
def test_constant_guess_recovers_the_constant_of_a_trivial_solution(equation):
    import torch

    module = load("high_dim_poisson")
    d, c = 50, -7.25
    x = module.sample_ball(500, d, torch.Generator().manual_seed(0), torch.float64, "cpu")
    w = 1 - (x * x).sum(-1)
    g = module.operator(equation, torch.full_like(w, -2 * d * c), c * w)  # the source of u = c (1 - |x|^2)
    assert module.constant_guess(equation, x, g, d) == pytest.approx(c, rel=1e-10)
