"""The fused step (:mod:`pinnkit.training.fused_step`: evaluation, gradient, checks, snapshot and Adam update as one
compiled graph) against the eager step: the same parameters to round-off in float64 with a trainable 0-dim PDE
parameter; a non-finite loss or gradient rolls back exactly as the eager loop does, with Adam, ConFIG and MultiAdam; a
gradient hook, a weighting or an optimizer it does not reproduce leaves the step to the eager path."""

from __future__ import annotations

import math

import pytest
import torch

import pinnkit as pk

#: Set to poison the residual: sqrt(|u - u|) adds 0 to the loss and NaN to the gradient.
POISON = {"on": False}


def residual(f):
    r = f.u_t - f.nu * f.u_xx
    if POISON["on"]:
        r = r + torch.sqrt((f.u - f.u).abs())
    return r


def heat_trainer(compile: bool, *, inverse: bool = False, **options) -> pk.Trainer:
    domain = pk.geometry.Interval(0, 1) * pk.geometry.TimeDomain(0, 1)
    conditions = [pk.DirichletBC(domain.boundary, 0.0, n=16),
                  pk.InitialCondition(lambda x: torch.sin(math.pi * x[:, :1]), n=16)]
    if inverse:  # data of u = exp(-0.1 pi^2 t) sin(pi x), to learn nu from 0.3
        x = torch.rand(30, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
        u = torch.exp(-0.1 * math.pi**2 * x[:, 1:]) * torch.sin(math.pi * x[:, :1])
        conditions.append(pk.ObservedData(x, u))
    problem = pk.Problem(domain, residual, outputs="u", parameters={"nu": 0.3 if inverse else 0.1},
                         conditions=conditions)  # nu is trained (a 0-dim parameter in the graph)
    torch.manual_seed(0)
    return pk.Trainer(problem, pk.nets.MLP(2, 1, width=8, depth=2), sampler=pk.sampling.FixedPoints(80),
                      lr=1e-2, dtype=torch.float64, seed=2, backend=pk.Backend("taylor", compile=compile),
                      **options)


def state(trainer: pk.Trainer) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    params = trainer.trainable_parameters()
    adam = getattr(trainer.optimizer, "base", trainer.optimizer)  # ConFIG's Adam holds the moments
    held = [adam.state[p] for p in params if p in adam.state]
    return (torch.cat([p.detach().reshape(-1) for p in params]),
            torch.cat([s["exp_avg_sq"].reshape(-1) for s in held]) if held else torch.zeros(0),
            torch.tensor([float(s["step"]) for s in held], dtype=torch.float64))  # tensors (Adam), ints (MultiAdam)


def test_fused_steps_are_the_eager_steps_with_a_trainable_pde_parameter():
    eager, fused = heat_trainer(False, inverse=True), heat_trainer(True, inverse=True)
    eager.fit(30, progress=False, log_every=7)
    fused.fit(30, progress=False, log_every=7)
    assert fused._fused is not None and fused._fused.steps == 29  # all but the first, which builds Adam's state
    for a, b in zip(state(fused), state(eager), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    assert fused.parameter_values()["nu"] != 0.3
    torch.testing.assert_close(torch.tensor([r["loss"] for r in fused.history]),
                               torch.tensor([r["loss"] for r in eager.history]), rtol=1e-12, atol=0)
    assert [r["step"] for r in fused.history] == [r["step"] for r in eager.history]
    assert all(p.grad is None for p in fused.trainable_parameters())


@pytest.mark.parametrize("optimizer", ["adam", "config", "multiadam"])
def test_a_non_finite_loss_rolls_back_as_the_eager_loop_does(optimizer):
    trainers = heat_trainer(False, optimizer=optimizer), heat_trainer(True, optimizer=optimizer)
    for trainer in trainers:
        trainer.fit(6, progress=False, log_every=2)
        with torch.no_grad():
            next(iter(trainer.net.parameters()))[0, 0] = math.nan  # the state after step 6 is not finite
        with pytest.raises(pk.NonFiniteLossError, match="loss at the parameters after step 6 is not finite"):
            trainer.fit(4, progress=False, log_every=2)
    eager, fused = trainers
    assert fused._fused.steps == 6  # five steps, then the one that found the NaN
    assert eager.step == fused.step == 5  # back to the last state whose loss was evaluated finite
    for a, b in zip(state(fused), state(eager), strict=True):
        assert torch.isfinite(a).all()
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    assert len(fused.history) == len(eager.history)
    fused.fit(3, progress=False)  # and it trains on from there, as the eager loop does
    eager.fit(3, progress=False)
    torch.testing.assert_close(state(fused)[0], state(eager)[0], rtol=0, atol=1e-12)


def test_a_non_finite_gradient_changes_nothing_and_rolls_back():
    trainer = heat_trainer(True, scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5))
    trainer.fit(5, progress=False)
    before, lr = state(trainer), trainer.optimizer.param_groups[0]["lr"]
    POISON["on"] = True
    try:
        with pytest.raises(pk.NonFiniteLossError, match="gradient at the parameters after step 5 is not finite"):
            trainer.fit(2, progress=False)
    finally:
        POISON["on"] = False
    assert trainer._fused.steps == 5  # four steps, then the poisoned one, all as one graph
    assert trainer.step == 5 and trainer.optimizer.param_groups[0]["lr"] == lr
    for a, b in zip(state(trainer), before, strict=True):
        assert torch.equal(a, b)


def test_what_the_graph_cannot_take_is_left_to_the_eager_step():
    hooked = heat_trainer(True)
    hooked.fit(2, progress=False)
    next(iter(hooked.net.parameters())).register_hook(lambda g: 2 * g)
    hooked.fit(3, progress=False)
    assert hooked._fused.steps == 1  # step 2 alone, before the hook
    weighted = heat_trainer(True, weighting=pk.weighting.ResidualAttention())
    weighted.fit(3, progress=False)
    assert not weighted.objective.traces_whole and weighted._fused is None
    assert heat_trainer(True, optimizer="sgd")._fused is None and heat_trainer(True, optimizer="pcgrad")._fused is None
    assert heat_trainer(False)._fused is None
