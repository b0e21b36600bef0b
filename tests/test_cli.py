"""pinnkit.cli: the common options of problem scripts, their defaults and checks, the timed fit, the metrics."""

import argparse
import json
from pathlib import Path

import pytest
import torch

import pinnkit as pk

DEFAULTS = {"adam": 5000, "lbfgs": 800, "points": 2540, "width": 20, "depth": 6, "period": 500}
QUICK = {"adam": 20, "lbfgs": 5, "points": 100, "width": 8, "depth": 2, "period": 10}
KEYS = {"steps": "adam", "lbfgs_steps": "lbfgs"}
ALL = ("steps", "lbfgs_steps", "points", "width", "depth", "lr", "backend", "seed", "device", "dtype", "out",
       "quick", "no_progress")


def make_parser(**overrides) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="problem")
    pk.cli.add_common_options(p, ALL[:6], DEFAULTS, keys=KEYS)
    p.add_argument("--period", type=int, default=None)
    pk.cli.add_common_options(p, ALL[6:], out={"default": Path("out/problem")}, **overrides)
    return p


def resolve(argv, parser=None, **kw) -> argparse.Namespace:
    parser = parser or make_parser()
    return pk.cli.resolve_options(parser, parser.parse_args(argv), DEFAULTS, QUICK, keys=KEYS, **kw)


def test_defaults_fill_the_unset_options_and_the_fixed_ones_keep_theirs():
    args = resolve([])
    assert (args.steps, args.lbfgs_steps, args.points, args.width, args.depth, args.period) == (5000, 800, 2540, 20,
                                                                                               6, 500)
    assert (args.lr, args.backend, args.seed, args.device, args.dtype) == (1e-3, "autograd", 0, "cpu", "float64")
    assert args.out == Path("out/problem") and not args.quick and not args.no_progress


def test_quick_fills_from_quick_and_given_options_win():
    args = resolve(["--quick", "--width", "32", "--steps", "7", "--backend", "zcs", "--dtype", "float32",
                    "--out", "elsewhere", "--no-progress", "--lr", "0.01", "--seed", "3"])
    assert (args.steps, args.lbfgs_steps, args.points, args.width, args.depth, args.period) == (7, 5, 100, 32, 2, 10)
    assert (args.lr, args.backend, args.seed, args.dtype) == (0.01, "zcs", 3, "float32")
    assert args.out == Path("elsewhere") and args.quick and args.no_progress


def test_help_shows_the_defaults_in_the_order_added_and_the_overrides(capsys):
    parser = make_parser(backend={"default": "zcs", "help": "derivative engine (default {default})"},
                         dtype={"default": "float32"})
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    text = capsys.readouterr().out
    for piece in ("Adam steps (default 5000)", "quasi-Newton iterations after Adam (default 800)",
                  "collocation points (default 2540)", "hidden width (default 20)", "hidden layers (default 6)",
                  "Adam learning rate (default 1e-3)", "derivative engine (default zcs)", "default float32",
                  "output directory", "a smoke test: few steps, small net", "no progress bar"):
        assert piece in text, piece
    flags = [f"--{name.replace('_', '-')}" for name in ALL]
    flags.insert(6, "--period")
    positions = [text.index(f"[{flag}") for flag in flags]
    assert positions == sorted(positions)
    args = pk.cli.resolve_options(parser, parser.parse_args([]), DEFAULTS, QUICK, keys=KEYS)
    assert args.backend == "zcs" and args.dtype == "float32"


@pytest.mark.parametrize(("argv", "message"), [
    (["--steps", "-1"], "--steps must be >= 0; got -1"),
    (["--lbfgs-steps", "-2"], "--lbfgs-steps must be >= 0; got -2"),
    (["--points", "0"], "--points must be >= 1; got 0"),
    (["--width", "0"], "--width must be >= 1; got 0"),
    (["--depth", "-3"], "--depth must be >= 1; got -3"),
    (["--period", "0"], "--period must be >= 1; got 0"),
])
def test_bad_counts_are_refused_naming_the_option(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        resolve(argv, positive=("period",))
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-2", "nan", "inf"])
def test_a_weight_that_is_not_positive_and_finite_is_refused_naming_the_option(value, capsys):
    parser = make_parser()
    parser.add_argument("--data-weight", type=float, default=1.0)
    with pytest.raises(SystemExit) as info:
        resolve(["--data-weight", value], parser=parser, positive_finite=("data_weight",))
    assert info.value.code == 2
    assert f"--data-weight must be a positive finite number; got {float(value)}" in capsys.readouterr().err
    assert resolve(["--data-weight", "0.5"], parser=parser, positive_finite=("data_weight",)).data_weight == 0.5


def test_zero_steps_are_allowed():
    args = resolve(["--steps", "0", "--lbfgs-steps", "0"])
    assert args.steps == 0 and args.lbfgs_steps == 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal where CUDA is missing")
def test_cuda_without_cuda_is_refused(capsys):
    with pytest.raises(SystemExit):
        resolve(["--device", "cuda:0"])
    err = capsys.readouterr().err
    assert "--device cuda:0: " in err and "CUDA is not available here" in err


def test_misuse_of_add_common_options_is_a_clear_error():
    p = argparse.ArgumentParser()
    with pytest.raises(ValueError, match=r"names: no common option \['stepz'\]"):
        pk.cli.add_common_options(p, ("stepz",), DEFAULTS)
    with pytest.raises(ValueError, match="overrides for options not being added"):
        pk.cli.add_common_options(p, ("lr",), backend={"default": "zcs"})
    with pytest.raises(ValueError, match="out: give the output folder's default"):
        pk.cli.add_common_options(p, ("out",))
    with pytest.raises(ValueError, match="defaults: no entry 'steps' for the default of --steps"):
        pk.cli.add_common_options(p, ("steps",), DEFAULTS)


def tiny_trainer() -> tuple[pk.Trainer, torch.nn.Module]:
    """u'' = -pi^2 sin(pi x) on [0, 1], u(0) = u(1) = 0: a few steps of it are milliseconds."""
    domain = pk.geometry.Interval(0, 1)
    problem = pk.Problem(domain, lambda f: f.u_xx + torch.pi**2 * torch.sin(torch.pi * f.x), outputs="u",
                         conditions=[pk.DirichletBC(domain.boundary, 0.0, n=2)])
    net = pk.nets.MLP(1, 1, width=8, depth=2)
    return pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(32), dtype=torch.float64, seed=0), net


def test_timed_fit_runs_adam_then_lbfgs_and_returns_positive_times():
    trainer, net = tiny_trainer()
    wall, cpu = pk.cli.timed_fit(trainer, 12, 5, progress=False)
    assert wall > 0 and cpu > 0
    assert 12 < trainer.step <= 17  # L-BFGS may stop early, saying why
    assert trainer.optimizer_name == "lbfgs"
    assert [r["step"] for r in trainer.history][:3] == [1, 2, 3]  # log_every = max(1, 12 // 10)

    args = argparse.Namespace(steps=12, seed=0, dtype="float64", device="cpu", backend="autograd")
    metrics = pk.cli.run_metrics(trainer, net, args, wall, cpu)
    assert list(metrics) == ["wall_time_s", "cpu_time_s", "steps", "adam_steps", "lbfgs_iterations",
                             "lbfgs_stop_reason", "parameters", "seed", "dtype", "device", "backend", "ranks",
                             "error_curve"]
    assert metrics["error_curve"] == []  # no reference, no error in the history
    assert metrics["ranks"] == 1
    assert metrics["steps"] == trainer.step and metrics["adam_steps"] == 12
    assert metrics["lbfgs_iterations"] == trainer.step - 12
    assert metrics["parameters"] == sum(p.numel() for p in net.parameters()) == (8 + 8) + (64 + 8) + (8 + 1)
    assert "cpu_time_s" not in pk.cli.run_metrics(trainer, net, args, wall)


def test_fit_without_lbfgs_stays_with_adam_and_logs_as_asked():
    trainer, _ = tiny_trainer()
    pk.cli.fit_adam_then_lbfgs(trainer, 10, 0, log_every=5, progress=False)
    assert trainer.step == 10 and trainer.optimizer_name != "lbfgs"
    assert [r["step"] for r in trainer.history] == [5, 10]


@pytest.mark.parametrize("name", pk.cli.QUASI_NEWTON)
def test_the_quasi_newton_phase_uses_the_method_asked_for_and_records_it(name):
    trainer, net = tiny_trainer()
    pk.cli.timed_fit(trainer, 4, 3, progress=False, quasi_newton=name)
    assert trainer.optimizer_name == name and 4 < trainer.step <= 7
    args = argparse.Namespace(steps=4, seed=0, dtype="float64", device="cpu", backend="autograd", quasi_newton=name)
    assert pk.cli.run_metrics(trainer, net, args, 1.0)["quasi_newton"] == name


def test_write_json_writes_indented_json_and_leaves_no_partial_file(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text("old", encoding="utf-8")
    data = {"error": 1.5e-3, "steps": 10, "reason": None, "list": [1, 2]}
    pk.cli.write_json(path, data)
    assert path.read_text(encoding="utf-8") == json.dumps(data, indent=2) + "\n"
    assert json.loads(path.read_text(encoding="utf-8")) == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]
    with pytest.raises(TypeError):
        pk.cli.write_json(path, {"bad": object()})
    assert json.loads(path.read_text(encoding="utf-8")) == data  # a failed write leaves the old file whole


def test_error_curve_takes_the_records_that_have_the_error():
    history = [{"step": 1, "time": 0.5, "loss": 2.0}, {"step": 2, "time": 0.75, "loss": 1.0, "l2_relative_error": 0.1},
               {"step": 4, "time": 1.5, "loss": 0.5, "l2_relative_error": 0.01}]
    assert pk.cli.error_curve(history) == [[2, 0.75, 0.1], [4, 1.5, 0.01]]
    assert pk.cli.error_curve(history, key="loss") == [[1, 0.5, 2.0], [2, 0.75, 1.0], [4, 1.5, 0.5]]
