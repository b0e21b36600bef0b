"""Non-finite training costs nothing: the loop goes back to the last state whose loss was finite, and checkpoints
only ever hold such states."""

import math

import numpy as np
import pytest
import torch

import pinnkit as pk


def sqrt_problem():
    """``sqrt(a) + 1 = 0`` (times ``u`` by zero, so the net takes part) with a trainable ``a``: the loss falls as
    ``a`` falls, so descent drives it below zero, where ``sqrt(a)`` is NaN."""
    domain = pk.geometry.Interval(0, 1)
    return pk.Problem(domain, lambda f: 0.0 * f.u + torch.sqrt(f.a) + 1.0, outputs="u", parameters={"a": 0.5})


def sqrt_trainer(sampler=None, lr=0.04, seed=0):
    torch.manual_seed(seed)
    net = pk.nets.MLP(1, 1, width=8, depth=1)
    return pk.Trainer(sqrt_problem(), net, sampler=sampler or pk.sampling.FixedPoints(32), lr=lr,
                      dtype=torch.float64)


def test_adam_driving_a_parameter_into_nan_leaves_a_resumable_checkpoint(tmp_path):
    trainer = sqrt_trainer()
    path = tmp_path / "ckpt.pt"
    checkpoint = pk.Checkpoint(path, every=1)
    with pytest.raises(pk.NonFiniteLossError, match=r"loss at the parameters after step \d+ is not finite \(pde=nan"):
        trainer.fit(500, progress=False, callbacks=[checkpoint])
    a = trainer.parameter_values()["a"]
    assert a >= 0 and math.isfinite(trainer.current_loss())  # the trainer stands on its last finite state
    assert checkpoint.skipped >= 1  # the state with a < 0 was refused, the file kept the one before
    saved = torch.load(path, weights_only=True)
    assert saved["parameters"]["a"] >= 0 and math.isfinite(saved["loss"]) and saved["step"] == trainer.step
    resumed = sqrt_trainer(seed=3)
    resumed.load_state(path)
    assert resumed.current_loss() == pytest.approx(saved["loss"], rel=1e-12)
    resumed.fit(5, lr=1e-6, progress=False)  # resumes, and with a smaller step stays finite
    assert all(math.isfinite(h["loss"]) for h in resumed.history)


def test_a_nan_restores_the_moving_points_and_the_optimizer_of_the_last_finite_state():
    trainer = sqrt_trainer(sampler=pk.sampling.Resample(32, every=1))
    states = {}

    class Record(pk.callbacks.Callback):
        def on_step_end(self, trainer_, step, loss):
            states[step] = (trainer_.sampler.points(step).clone(), trainer_.optimizer.state_dict()["state"][0][
                "exp_avg"].clone(), [p.detach().clone() for p in trainer_.trainable_parameters()])

    with pytest.raises(pk.NonFiniteLossError):
        trainer.fit(500, progress=False, callbacks=[Record()])
    step = trainer.step
    points, moment, params = states[step]
    assert torch.equal(trainer.sampler.points(step), points)
    assert torch.equal(trainer.optimizer.state_dict()["state"][0]["exp_avg"], moment)
    for a, b in zip(trainer.trainable_parameters(), params, strict=True):
        assert torch.equal(a.detach(), b)
    assert trainer.history[-1]["step"] <= step


def test_a_non_finite_gradient_stops_before_the_update():
    domain = pk.geometry.Interval(0, 1)
    # |u|^(1/2) has an infinite derivative where u = 0: finite loss, non-finite gradient
    problem = pk.Problem(domain, lambda f: torch.sqrt(torch.abs(f.u * 0.0)), outputs="u")
    torch.manual_seed(0)
    net = pk.nets.MLP(1, 1, width=4, depth=1)
    trainer = pk.Trainer(problem, net, dtype=torch.float64)
    before = [p.detach().clone() for p in trainer.trainable_parameters()]
    with pytest.raises(pk.NonFiniteLossError, match="gradient at the parameters after step 0 is not finite"):
        trainer.fit(3, progress=False)
    assert trainer.step == 0
    for a, b in zip(trainer.trainable_parameters(), before, strict=True):
        assert torch.equal(a.detach(), b)


def test_a_nan_in_a_multi_loss_update_is_undone():
    domain = pk.geometry.Interval(0, 1)
    problem = pk.Problem(domain, lambda f: torch.sqrt(torch.abs(f.u * 0.0)), outputs="u",
                         conditions=[pk.DirichletBC(None, 0.0, n=2)])
    torch.manual_seed(0)
    trainer = pk.Trainer(problem, pk.nets.MLP(1, 1, width=4, depth=1), optimizer="pcgrad", dtype=torch.float64)
    before = [p.detach().clone() for p in trainer.trainable_parameters()]
    with pytest.raises(pk.NonFiniteLossError, match="update at the parameters after step 0 is not finite"):
        trainer.fit(3, progress=False)
    for a, b in zip(trainer.trainable_parameters(), before, strict=True):
        assert torch.equal(a.detach(), b)


def test_lbfgs_line_search_nan_is_the_same_error_with_the_same_rollback(tmp_path):
    trainer = sqrt_trainer(lr=1e-3)
    trainer.fit(3, progress=False)
    start = [p.detach().clone() for p in trainer.trainable_parameters()]
    with pytest.raises(pk.NonFiniteLossError):
        trainer.fit(200, optimizer="lbfgs", progress=False)
    assert trainer.step >= 3 and math.isfinite(trainer.current_loss())
    if trainer.step == 3:  # the first chunk failed: its start is restored exactly
        for a, b in zip(trainer.trainable_parameters(), start, strict=True):
            assert torch.equal(a.detach(), b)
    trainer.save(tmp_path / "after.pt")  # the restored state is finite and can be saved
    assert np.isfinite(torch.load(tmp_path / "after.pt", weights_only=True)["loss"])


def test_copy_tensors_reuses_the_buffers_of_an_earlier_copy_and_never_aliases_the_source():
    from pinnkit.training.rollback import copy_tensors

    state = {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.ones(4)}}, "groups": [{"lr": 0.1}]}
    first = copy_tensors(state)
    assert first["groups"] == [{"lr": 0.1}] and float(first["state"][0]["step"]) == 3.0
    buffer = first["state"][0]["exp_avg"]
    assert buffer.data_ptr() != state["state"][0]["exp_avg"].data_ptr()
    state["state"][0]["exp_avg"].mul_(2.0)  # the optimizer moves on in place
    assert torch.equal(buffer, torch.ones(4))
    second = copy_tensors(state, first)
    assert second["state"][0]["exp_avg"] is buffer and torch.equal(buffer, torch.full((4,), 2.0))
    state["state"][0]["exp_avg"] = torch.zeros(5)  # another shape: a new buffer
    third = copy_tensors(state, second)
    assert third["state"][0]["exp_avg"] is not buffer and torch.equal(third["state"][0]["exp_avg"], torch.zeros(5))


def test_copy_tensors_fills_reused_buffers_of_mixed_dtypes_without_recording_gradients():
    from pinnkit.training.rollback import copy_tensors

    weight = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    state = {"w": weight, "step": torch.tensor(7.0), "count": torch.tensor([1, 2]), "lr": 0.5}
    first = copy_tensors(state)
    with torch.no_grad():
        weight.add_(1.0)
    state["step"].add_(1.0)
    state["count"].mul_(3)
    second = copy_tensors(state, first)
    assert second["w"] is first["w"] and second["step"] is first["step"] and second["count"] is first["count"]
    assert torch.equal(second["w"], weight.detach()) and second["w"].dtype == torch.float64
    assert not second["w"].requires_grad and second["w"].grad_fn is None
    assert float(second["step"]) == 8.0 and second["count"].tolist() == [3, 6] and second["lr"] == 0.5
