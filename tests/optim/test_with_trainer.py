"""The multi-loss optimizers through the Trainer: training with both derivative backends, exact resume from a
checkpoint, L-BFGS afterwards, schedulers, the non-finite guard, and errors at construction."""

import functools

import pytest
import torch

import pinnkit as pk

from .helpers import params, trainer

SPECS = {
    "multiadam": lambda: pk.optim.MultiAdam(lr=1e-2),
    "config": lambda: pk.optim.ConFIG("adam", lr=1e-2),
    "mconfig": lambda: pk.optim.MConFIG("sgd", lr=1e-2),
    "pcgrad": lambda: pk.optim.PCGrad("adam", lr=1e-2, seed=1),
}


def total_loss(t):
    return float(t.losses()[0].detach())


@pytest.mark.parametrize("backend", ["autograd", "zcs"])
@pytest.mark.parametrize("name", list(SPECS))
def test_trains_with_both_backends(name, backend):
    t = trainer(SPECS[name](), backend=backend)
    before = total_loss(t)
    t.fit(60, progress=False, log_every=30)
    assert t.optimizer_name == name
    assert total_loss(t) < 0.7 * before


@pytest.mark.parametrize("name", list(SPECS))
def test_by_name(name):
    t = trainer(name, lr=1e-2)
    assert type(t.optimizer).__name__.lower() == name and t.optimizer.param_groups[0]["lr"] == 1e-2
    t.fit(3, progress=False)


@pytest.mark.parametrize("name", list(SPECS))
def test_resume_is_bitwise_identical(tmp_path, name):
    """2k steps == k steps + save + load into a fresh trainer + k steps (with a scheduler), on the CPU."""
    sched = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.7)  # noqa: E731
    straight = trainer(SPECS[name](), scheduler=sched)
    straight.fit(14, progress=False, log_every=7)
    first = trainer(SPECS[name](), scheduler=sched)
    first.fit(7, progress=False, log_every=7)
    first.save(tmp_path / "ckpt.pt")
    state = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    assert "multi_loss" in state["optimizer"]
    resumed = trainer(SPECS[name](), seed=5, scheduler=sched)
    resumed.load_state(tmp_path / "ckpt.pt")
    resumed.fit(7, progress=False, log_every=7)
    for a, b in zip(params(straight), params(resumed), strict=True):
        assert torch.equal(a, b)
    assert [r["loss"] for r in straight.history] == [r["loss"] for r in resumed.history]
    assert straight.history[-1]["lr"] == resumed.history[-1]["lr"] < 1e-2  # the schedule ran and resumed


def test_resume_by_name_switches_the_optimizer(tmp_path):
    first = trainer("mconfig", lr=1e-2)
    first.fit(5, progress=False)
    first.save(tmp_path / "ckpt.pt")
    resumed = trainer("adam", lr=1e-2)
    resumed.load_state(tmp_path / "ckpt.pt")
    assert isinstance(resumed.optimizer, pk.optim.MConFIG)
    assert resumed.optimizer.state_dict()["multi_loss"]["loss_steps"] == [2, 2, 1]
    resumed.fit(2, progress=False)


@pytest.mark.parametrize("name", list(SPECS))
def test_lbfgs_follows(name):
    t = trainer(SPECS[name](), dtype=torch.float64)
    t.fit(10, progress=False)
    before = total_loss(t)
    t.fit(25, optimizer="lbfgs", progress=False)
    assert t.optimizer_name == "lbfgs" and total_loss(t) < before


@pytest.mark.parametrize("name", list(SPECS))
def test_non_finite_loss_goes_back_to_the_last_finite_state(name):
    t = trainer(SPECS[name]())

    def poison(trainer_, step, loss):
        if step == 6:
            with torch.no_grad():
                next(trainer_.net.parameters()).view(-1)[0] = float("nan")

    with pytest.raises(pk.NonFiniteLossError, match="loss at the parameters after step 6 is not finite"):
        t.fit(20, progress=False, callbacks=[pk.callbacks.LambdaCallback(on_step_end=poison)])
    assert t.step == 5  # back at the last state whose loss was evaluated finite
    state = t.optimizer.state_dict()
    if name == "mconfig":
        assert state["multi_loss"]["steps"] == 5
    elif name == "multiadam":
        assert state["state"][0]["step"] == 5
    else:
        assert state["base"]["state"][0]["step"] == 5


def test_loss_weights_reach_the_optimizer():
    """The optimizer gets the weighted terms: MultiAdam with one group and weights w equals Adam on the
    weighted sum."""
    w = {"initial_u": 10.0, "pde": 0.5}
    multi = trainer(pk.optim.MultiAdam(lr=1e-2, groups="all"), dtype=torch.float64, loss_weights=w)
    adam = trainer(functools.partial(torch.optim.Adam, lr=1e-2, betas=(0.99, 0.99)), dtype=torch.float64,
                   loss_weights=w)
    multi.fit(5, progress=False)
    adam.fit(5, progress=False)
    for a, b in zip(params(multi), params(adam), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("make,match", [
    (lambda: trainer(pk.optim.ConFIG(groups=[["pde"], ["bc"]])), "groups: unknown term 'bc'"),
    (lambda: trainer("pcgrad", optimizer_options={"seed": -2}), "seed must be"),
    (lambda: trainer("multiadam", optimizer_options={"betas": (0.9, 1.0)}), "betas must be"),
    (lambda: trainer("config", optimizer_options={"base": "lbfgs"}), "base must be one of"),
])
def test_bad_arguments_fail_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()
