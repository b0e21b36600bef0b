"""The Trainer: exact resume, non-finite losses, L-BFGS stop reasons, checkpoints, loading, bad input."""

import math

import numpy as np
import pytest
import torch

import pinnkit as pk

NU = 0.01 / math.pi


def burgers_problem(**kw):
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    return pk.Problem(domain, lambda f: f.u_t + f.u * f.u_x - NU * f.u_xx, outputs="u", conditions=[
        pk.DirichletBC(domain.boundary, 0.0, n=32),
        pk.InitialCondition(lambda x: -torch.sin(math.pi * x[:, :1]), n=32)], **kw)


def trainer(seed=0, optimizer="adam", **kw):
    torch.manual_seed(seed)
    problem = burgers_problem()
    net = pk.nets.MLP(2, 1, width=12, depth=2, input_bounds=problem.domain.bbox)
    return pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(128), optimizer=optimizer, seed=seed, **kw)


def params(t):
    return [p.detach().clone() for p in t.trainable_parameters()]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_resume_is_bitwise_identical(tmp_path, dtype):
    """2k steps == k steps + save + load into a fresh trainer + k steps, bitwise on the CPU."""
    sched = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5)  # noqa: E731
    straight = trainer(dtype=dtype, scheduler=sched)
    straight.fit(40, progress=False, log_every=10)
    first = trainer(dtype=dtype, scheduler=sched)
    first.fit(20, progress=False, log_every=10)
    first.save(tmp_path / "ckpt.pt")
    resumed = trainer(seed=123, dtype=dtype, scheduler=sched)  # different initialisation, overwritten by the load
    resumed.load_state(tmp_path / "ckpt.pt")
    assert resumed.step == 20
    resumed.fit(20, progress=False, log_every=10)
    for a, b in zip(params(straight), params(resumed), strict=True):
        assert torch.equal(a, b)
    assert [r["loss"] for r in straight.history] == [r["loss"] for r in resumed.history]


def test_resume_after_lbfgs_is_bitwise_identical(tmp_path):
    straight = trainer()
    straight.fit(10, progress=False)
    straight.fit(60, optimizer="lbfgs", progress=False)
    first = trainer()
    first.fit(10, progress=False)
    first.fit(30, optimizer="lbfgs", progress=False)
    first.save(tmp_path / "ckpt.pt")
    resumed = trainer(seed=5)
    resumed.load_state(tmp_path / "ckpt.pt")
    assert resumed.optimizer_name == "lbfgs"
    resumed.fit(30, progress=False)
    for a, b in zip(params(straight), params(resumed), strict=True):
        assert torch.equal(a, b)


def test_checkpoints_load_with_weights_only_and_predict(tmp_path):
    t = trainer()
    t.fit(30, progress=False)
    t.save(tmp_path / "model.pt")
    state = torch.load(tmp_path / "model.pt", weights_only=True)
    assert state["format"] == "pinnkit-checkpoint" and state["step"] == 30
    model = pk.load(tmp_path / "model.pt")
    x = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    np.testing.assert_array_equal(model.predict(x), t.predict(x))
    assert model.coordinates == ("x", "t") and model.outputs == ("u",)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        model.predict(np.zeros((3, 3)))
    assert not list(tmp_path.glob(".model.pt.tmp-*"))  # the atomic write left no temporary file


def test_non_finite_loss_stops_and_keeps_the_last_good_state(tmp_path):
    t = trainer()
    path = tmp_path / "ckpt.pt"

    after = {}

    def poison(trainer_, step, loss):
        if step == 11:
            after[11] = [p.detach().clone() for p in trainer_.trainable_parameters()]
        if step == 12:
            with torch.no_grad():
                next(trainer_.net.parameters()).view(-1)[0] = float("nan")  # as if an update had gone wrong

    checkpoint = pk.Checkpoint(path, every=12)
    with pytest.raises(pk.NonFiniteLossError, match="after step 12 is not finite.*after step 11"):
        t.fit(30, progress=False, callbacks=[pk.callbacks.LambdaCallback(on_step_end=poison), checkpoint])
    # back to the last state whose loss was evaluated finite: after step 11 (the loss of step 12's parameters was
    # never evaluated finite), parameters, optimizer and step count alike
    assert t.step == 11 and t.history[-1]["step"] <= 11
    for a, b in zip(t.trainable_parameters(), after[11], strict=True):
        assert torch.equal(a.detach(), b)
    assert checkpoint.skipped == 1  # at step 12 the NaN state was refused
    saved = torch.load(path, weights_only=True)
    assert saved["step"] == 11 and math.isfinite(saved["loss"])  # the end of the fit saved the restored state
    assert all(torch.isfinite(v).all() for v in saved["net"].values())
    with pytest.raises(pk.NonFiniteLossError, match="not saving"):
        with torch.no_grad():
            next(t.net.parameters()).view(-1)[0] = float("nan")
        t.save(tmp_path / "broken.pt")
    assert not (tmp_path / "broken.pt").exists()


def test_non_finite_from_the_start_leaves_parameters_untouched():
    domain = pk.geometry.Interval(0, 1)
    problem = pk.Problem(domain, lambda f: f.u / (f.x - f.x), outputs="u")
    torch.manual_seed(0)
    net = pk.nets.MLP(1, 1, width=4, depth=1)
    before = [p.detach().clone() for p in net.parameters()]
    t = pk.Trainer(problem, net)
    with pytest.raises(pk.NonFiniteLossError, match=r"after step 0 is not finite \(pde=(nan|inf)"):
        t.fit(5, progress=False)
    for a, b in zip(before, net.parameters(), strict=True):
        assert torch.equal(a, b)


def test_lbfgs_reports_why_it_stopped():
    """A linear fit that L-BFGS solves exactly: it stops early and says so."""
    domain = pk.geometry.Interval(0, 1)
    points = torch.linspace(0, 1, 20, dtype=torch.float64)[:, None]
    problem = pk.Problem(domain, lambda f: 0 * f.u, outputs="u",
                         conditions=[pk.ObservedData(points, 2 * points + 1)])
    t = pk.Trainer(problem, torch.nn.Linear(1, 1), dtype=torch.float64,
                   optimizer_options=None)
    t.fit(200, optimizer="lbfgs", optimizer_options={"tolerance_grad": 1e-9}, progress=False)
    assert t.step < 200 and "L-BFGS converged" in t.stop_reason
    assert t.predict(np.array([[0.5]]))[0, 0] == pytest.approx(2.0, abs=1e-7)


@pytest.mark.parametrize("optimizer", ["lbfgs", "ssbroyden"])
def test_quasi_newton_runs_have_no_tolerance_stop_unless_one_is_set(optimizer):
    """By default a quasi-Newton fit runs its iterations (tolerances 0, documented in fit); a change tolerance the
    caller sets stops it early, and the stop reason names that rule, not the precision."""
    domain = pk.geometry.Interval(0, 1)
    points = torch.linspace(0, 1, 20, dtype=torch.float64)[:, None]
    problem = pk.Problem(domain, lambda f: 0 * f.u, outputs="u",
                         conditions=[pk.ObservedData(points, torch.sin(3 * points))])

    def fitted(options):
        torch.manual_seed(0)
        t = pk.Trainer(problem, pk.nets.MLP(1, 1, width=6, depth=1), dtype=torch.float64)
        t.fit(60, optimizer=optimizer, optimizer_options=options, progress=False)
        return t

    plain = fitted(None)
    group = plain.optimizer.param_groups[0]
    assert group["tolerance_grad"] == 0.0 and group["tolerance_change"] == 0.0 and group["lr"] == 1.0
    assert plain.step == 60 and plain.stop_reason is None
    stopped = fitted({"tolerance_change": 1e-3})
    assert stopped.step < 60 and "tolerance_change = 0.001" in stopped.stop_reason
    assert "precision" not in stopped.stop_reason and "float64 for more" not in stopped.stop_reason


def test_history_terms_metrics_and_early_stopping():
    t = trainer(reference=(np.array([[0.0, 0.5], [0.5, 0.5]]), np.array([[0.0], [-0.5]])))
    stop = pk.EarlyStopping(patience=1, min_delta=0.9)  # demands a 10x improvement per record
    t.fit(100, progress=False, log_every=10, callbacks=[stop])
    assert t.step == 20 and "early stopping" in t.stop_reason
    record = t.history[-1]
    assert {"step", "loss", "pde", "dirichlet_u_boundary", "initial_u", "lr", "time",
            "l2_relative_error"} <= set(record)
    assert record["loss"] == pytest.approx(record["pde"] + record["dirichlet_u_boundary"] + record["initial_u"])


def test_loss_weights_scale_the_terms():
    t = trainer(loss_weights={"initial_u": 10.0})
    total, terms, _ = t.losses()
    terms = {k: float(v.detach()) for k, v in terms.items()}
    assert float(total.detach()) == pytest.approx(terms["pde"] + terms["dirichlet_u_boundary"]
                                                  + 10 * terms["initial_u"], rel=1e-6)


def test_inverse_parameters_are_trained_and_saved(tmp_path):
    domain = pk.geometry.Interval(0, 1)
    x = torch.linspace(0, 1, 30, dtype=torch.float64)[:, None]
    problem = pk.Problem(domain, lambda f: f.u_x - f.k * f.u, outputs="u", parameters={"k": 0.5},
                         conditions=[pk.ObservedData(x, torch.exp(2 * x))])
    torch.manual_seed(0)
    t = pk.Trainer(problem, pk.nets.MLP(1, 1, width=16, depth=2), dtype=torch.float64, lr=1e-2)
    t.fit(300, progress=False)
    t.fit(200, optimizer="lbfgs", progress=False)
    assert t.parameter_values()["k"] == pytest.approx(2.0, rel=1e-3)
    assert problem.parameters["k"] == 0.5  # the problem keeps the initial value; the trainer trained its own
    t.save(tmp_path / "m.pt")
    assert pk.load(tmp_path / "m.pt").parameters["k"] == t.parameter_values()["k"]


@pytest.mark.parametrize("make,match", [
    (lambda p: pk.Trainer(p, pk.nets.MLP(3, 1)), r"map \(N, 2\) to \(N, 1\)|accept points of shape"),
    (lambda p: pk.Trainer(p, pk.nets.MLP(2, 2)), r"map \(N, 2\) to \(N, 1\)"),
    (lambda p: pk.Trainer(p, pk.nets.MLP(2, 1), optimizer="adamax"), "optimizer must be one of"),
    (lambda p: pk.Trainer(p, pk.nets.MLP(2, 1), loss_weights={"bc": 1.0}), "unknown term 'bc'"),
    (lambda p: pk.Trainer(p, pk.nets.MLP(2, 1), dtype=torch.int32), "floating-point torch dtype"),
    (lambda p: pk.Trainer(p, pk.nets.MLP(2, 1), backend="jax"), "backend must be one of"),
    (lambda p: pk.Trainer(p, pk.nets.MLP(2, 1), lr=-1), "lr must be a positive"),
    (lambda p: pk.Trainer(p, "net"), "torch.nn.Module"),
    (lambda p: pk.Trainer(p, pk.nets.MLP(2, 1), seed="x"), "seed must be a non-negative integer"),
])
def test_bad_trainer_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make(burgers_problem())


def test_bad_fit_arguments():
    t = trainer()
    with pytest.raises(ValueError, match="steps must be"):
        t.fit(-1)
    with pytest.raises(ValueError, match="log_every"):
        t.fit(1, log_every=0)
    with pytest.raises(ValueError, match="pinnkit checkpoint"):
        torch.save({"a": 1}, "/tmp/_not_ckpt.pt")
        t.load_state("/tmp/_not_ckpt.pt")


def test_zcs_and_autograd_train_identically():
    a, z = trainer(dtype=torch.float64), trainer(dtype=torch.float64, backend="zcs")
    a.fit(20, progress=False)
    z.fit(20, progress=False)
    for pa, pz in zip(params(a), params(z), strict=True):
        torch.testing.assert_close(pa, pz, rtol=1e-9, atol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_matches_cpu_closely():
    cpu, gpu = trainer(dtype=torch.float64), trainer(dtype=torch.float64, device="cuda")
    cpu.fit(20, progress=False)
    gpu.fit(20, progress=False)
    for a, b in zip(params(cpu), params(gpu), strict=True):
        torch.testing.assert_close(a, b.cpu(), rtol=1e-8, atol=1e-10)


def test_periodic_checkpoints_follow_lbfgs_chunks(tmp_path):
    """L-BFGS moves 25 steps at a time; a checkpoint is written whenever a multiple of `every` is passed."""
    t = trainer()
    saved = []
    checkpoint = pk.Checkpoint(tmp_path / "c.pt", every=40)
    original = checkpoint._save
    checkpoint._save = lambda tr: (saved.append(tr.step), original(tr))
    t.fit(110, optimizer="lbfgs", progress=False, callbacks=[checkpoint])
    assert saved[:2] == [50, 100]  # after the chunks that passed 40 and 80
    assert torch.load(tmp_path / "c.pt", weights_only=True)["step"] == t.step
    with pytest.raises(ValueError, match="every must be"):
        pk.Checkpoint(tmp_path / "c.pt", every=0)
