"""The compiled Adam/AdamW update (:class:`pinnkit.training.compiled_update.CompiledUpdate`) against torch.optim's
own step: the same parameters and state to round-off in float64 over many steps, with parameter groups, both kinds
of weight decay and a scheduler (no recompilation when the learning rate changes); a non-finite gradient changes
nothing; optimizers it does not reproduce are left to their own step."""

from __future__ import annotations

import math

import pytest
import torch

import pinnkit as pk
from pinnkit.derivatives.protocol import Compiled
from pinnkit.training.compiled_update import CompiledUpdate

STEPS = 40


def two_groups(kind: type[torch.optim.Optimizer], seed: int = 0, **options) -> tuple[list[torch.Tensor],
                                                                                      torch.optim.Optimizer]:
    generator = torch.Generator().manual_seed(seed)
    params = [torch.randn(shape, generator=generator, dtype=torch.float64, requires_grad=True)
              for shape in ((5, 3), (3,), (4, 5), ())]  # a 0-dim one too (a scalar PDE parameter, say)
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": 3e-3, "weight_decay": 0.2}]
    return params, kind(groups, lr=1e-2, **options)


def set_gradients(params: list[torch.Tensor], step: int) -> None:
    generator = torch.Generator().manual_seed(1000 + step)
    for p in params:
        p.grad = torch.randn(p.shape, generator=generator, dtype=p.dtype) * (1 + step % 3)


@pytest.mark.parametrize("kind, options", [(torch.optim.Adam, {"weight_decay": 0.05}),
                                           (torch.optim.AdamW, {"betas": (0.8, 0.95), "eps": 1e-6})])
def test_the_compiled_update_is_torch_optims_update(kind, options):
    eager_params, eager = two_groups(kind, foreach=False, **options)
    params, optimizer = two_groups(kind, **options)
    compiled = Compiled()
    update = CompiledUpdate(optimizer, compiled)
    schedules = [torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5) for o in (eager, optimizer)]
    graphs = None
    for step in range(STEPS):
        set_gradients(eager_params, step)
        set_gradients(params, step)
        eager.step()
        assert update() is True
        for schedule in schedules:
            schedule.step()
        if step == 1:
            graphs = compiled.compilations
    assert graphs == 1 and compiled.compilations == graphs, "the learning rate's change recompiled the update"
    for p, q in zip(params, eager_params, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-13)
        state, reference = optimizer.state[p], eager.state[q]
        for key in ("exp_avg", "exp_avg_sq", "step"):
            torch.testing.assert_close(state[key], reference[key], rtol=1e-13, atol=1e-15)


def test_a_non_finite_gradient_changes_nothing():
    params, optimizer = two_groups(torch.optim.Adam)
    update = CompiledUpdate(optimizer, Compiled())
    for step in range(3):
        set_gradients(params, step)
        assert update()
    before = {k: v.clone() for p in params for k, v in
              [(("p", id(p)), p.detach()), *[((key, id(p)), optimizer.state[p][key]) for key in optimizer.state[p]]]}
    set_gradients(params, 3)
    params[2].grad[1, 2] = math.inf
    assert update() is False
    after = {k: v for p in params for k, v in
             [(("p", id(p)), p.detach()), *[((key, id(p)), optimizer.state[p][key]) for key in optimizer.state[p]]]}
    for key, value in before.items():
        assert torch.equal(after[key], value), key


def test_what_it_does_not_reproduce_is_refused():
    params = [torch.zeros(2, requires_grad=True)]
    assert CompiledUpdate.supports(torch.optim.Adam(params)) and CompiledUpdate.supports(torch.optim.AdamW(params))
    hooked = torch.optim.Adam(params)
    hooked.register_step_post_hook(lambda *args: None)
    for optimizer in (torch.optim.Adam(params, amsgrad=True), torch.optim.Adam(params, maximize=True),
                      torch.optim.SGD(params, lr=0.1), torch.optim.Adam(params, lr=torch.tensor(0.01)), hooked):
        assert not CompiledUpdate.supports(optimizer)
    with pytest.raises(ValueError, match="optimizer: the compiled update needs torch.optim.Adam or AdamW"):
        CompiledUpdate(torch.optim.SGD(params, lr=0.1), Compiled())


def heat_trainer(compile: bool, optimizer="adamw", **options) -> pk.Trainer:
    domain = pk.geometry.Interval(0, 1) * pk.geometry.TimeDomain(0, 1)
    problem = pk.Problem(domain, lambda f: f.u_t - 0.1 * f.u_xx, outputs="u", conditions=[
        pk.DirichletBC(domain.boundary, 0.0, n=20),
        pk.InitialCondition(lambda x: torch.sin(math.pi * x[:, :1]), n=20)])
    torch.manual_seed(0)
    return pk.Trainer(problem, pk.nets.MLP(2, 1, width=8, depth=2), sampler=pk.sampling.FixedPoints(100),
                      optimizer=optimizer, lr=1e-2 if isinstance(optimizer, str) else None, dtype=torch.float64,
                      seed=1, backend=pk.Backend("taylor", compile=compile), **options)


def flat(trainer: pk.Trainer) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in trainer.net.parameters()])


def test_a_compiled_adamw_run_with_a_scheduler_is_the_eager_run():
    options = {"optimizer_options": {"weight_decay": 0.1},
               "scheduler": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=5, gamma=0.7)}
    eager, compiled = heat_trainer(False, **options), heat_trainer(True, **options)
    eager.fit(3, progress=False)
    compiled.fit(3, progress=False)
    assert compiled._update is not None and eager._update is None
    graphs = compiled.objective.compiled.compilations
    eager.fit(27, progress=False)
    compiled.fit(27, progress=False)
    assert compiled.objective.compiled.compilations == graphs
    torch.testing.assert_close(flat(compiled), flat(eager), rtol=0, atol=1e-12)


def test_a_non_finite_gradient_in_a_compiled_run_rolls_back():
    trainer = heat_trainer(True, optimizer="adam")
    trainer.fit(4, progress=False)
    assert trainer._update is not None
    params = [p.detach().clone() for p in trainer.trainable_parameters()]
    moments = [trainer.optimizer.state[p]["exp_avg"].clone() for p in trainer.trainable_parameters()]
    # a fault in the gradient itself (the loss stays finite): every later backward pass yields a NaN there
    next(iter(trainer.net.parameters())).register_hook(lambda g: g * math.nan)
    with pytest.raises(pk.NonFiniteLossError, match="gradient at the parameters after step 4 is not finite"):
        trainer.fit(3, progress=False)
    assert trainer.step == 4
    for p, before, moment in zip(trainer.trainable_parameters(), params, moments, strict=True):
        assert torch.equal(p.detach(), before) and torch.equal(trainer.optimizer.state[p]["exp_avg"], moment)


def test_an_optimizer_it_does_not_reproduce_takes_its_own_step():
    def amsgrad(params):
        return torch.optim.Adam(params, lr=1e-2, amsgrad=True)

    eager, compiled = heat_trainer(False, optimizer=amsgrad), heat_trainer(True, optimizer=amsgrad)
    eager.fit(10, progress=False)
    compiled.fit(10, progress=False)
    assert compiled._update is None
    torch.testing.assert_close(flat(compiled), flat(eager), rtol=0, atol=1e-12)
