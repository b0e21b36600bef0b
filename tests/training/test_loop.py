"""The one training loop: every objective gets the same fit, optimizers, quasi-Newton chunks, rollback and resume."""

import inspect
import math

import numpy as np
import pytest
import torch
from torch import nn

import pinnkit as pk
import pinnkit.dynamics as dyn
from pinnkit.training import Evaluation, NonFiniteLossError, Objective, TrainingLoop

F64 = torch.float64


class Quadratic(Objective):
    """Two terms of one parameter vector: ``|x - a|^2`` and ``|x - b|^2`` (minimum at the mean of a and b), or
    with ``sqrt=True`` the term ``sqrt(x_0)``, which is NaN once ``x_0 < 0``."""

    kind = "quadratic"

    def __init__(self, sqrt: bool = False):
        self.x = torch.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
        self.a = torch.tensor([3.0, -1.0], dtype=F64)
        self.b = torch.tensor([1.0, 1.0], dtype=F64)
        self.sqrt = sqrt
        self.evaluations, self.after = 0, []

    @property
    def terms(self):
        return ("sqrt",) if self.sqrt else ("a", "b")

    def parameters(self):
        return [self.x]

    def evaluate(self, step):
        self.evaluations += 1
        if self.sqrt:
            return Evaluation({"sqrt": torch.sqrt(self.x[0]) + 0.1 * self.x[1] ** 2})
        return Evaluation({"a": (self.x - self.a).square().sum(), "b": (self.x - self.b).square().sum()})

    def after_step(self, step, evaluation):
        self.after.append(step)

    def state_dict(self):
        return {"x": self.x.detach().clone()}

    def load_state_dict(self, state, source="the state"):
        with torch.no_grad():
            self.x.copy_(state["x"])


def test_a_plain_objective_trains_with_every_kind_of_step():
    for optimizer in ("adam", "sgd", "multiadam", "config", "mconfig", "pcgrad"):
        loop = TrainingLoop(Quadratic(), optimizer=optimizer, lr=0.05)
        loop.fit(0, progress=False)
        loop.fit(300, progress=False)
        assert loop.history[0]["loss"] == 14.0, optimizer
        # the sum's minimum is 4; ConFIG and PCGrad stop at a Pareto-stationary point, where no term can fall
        assert loop.history[-1]["loss"] < (4.5 if optimizer in ("adam", "sgd", "multiadam") else 7.0), optimizer
    loop = TrainingLoop(Quadratic(), loss_weights={"b": 3.0})
    loop.fit(20, optimizer="lbfgs", progress=False)
    # minimum of |x - a|^2 + 3 |x - b|^2 at (a + 3 b) / 4
    torch.testing.assert_close(loop.objective.x.detach(), (loop.objective.a + 3 * loop.objective.b) / 4,
                               rtol=0, atol=1e-10)
    assert "L-BFGS" in loop.stop_reason  # converged before 20 iterations, and says why
    assert loop.objective.after == [0]  # one chunk, one after_step with the step count before it


def test_one_fit_for_every_trainer():
    for cls in (pk.Trainer, pk.OperatorTrainer, dyn.TrajectoryFit, dyn.SDETransitionFit, dyn.SDEMomentFit):
        assert cls.fit is TrainingLoop.fit and cls.save is TrainingLoop.save
        assert cls.load_state is TrainingLoop.load_state
    names = list(inspect.signature(TrainingLoop.fit).parameters)
    assert names == ["self", "steps", "optimizer", "lr", "optimizer_options", "callbacks", "log_every", "progress"]


def test_asking_for_the_current_optimizer_keeps_its_state_and_a_new_lr_rebuilds_it():
    loop = TrainingLoop(Quadratic(), lr=0.1)
    loop.fit(5, progress=False)
    adam = loop.optimizer
    loop.fit(5, optimizer="adam", progress=False)
    assert loop.optimizer is adam and adam.state[loop.objective.x]["step"] == 10
    loop.fit(1, lr=0.01, progress=False)
    assert loop.optimizer is not adam and loop.optimizer.param_groups[0]["lr"] == 0.01
    loop.fit(3, optimizer="lbfgs", progress=False)
    lbfgs = loop.optimizer
    loop.fit(3, optimizer="lbfgs", progress=False)
    assert loop.optimizer is lbfgs  # its history carries over


def test_a_given_lr_is_used_or_refused_never_ignored():
    loop = TrainingLoop(Quadratic())
    assert loop.optimizer.param_groups[0]["lr"] == 1e-3  # the default of a first-order name
    loop.fit(2, optimizer="lbfgs", progress=False)
    assert loop.optimizer.param_groups[0]["lr"] == 1.0  # the quasi-Newton step scale by default
    loop.fit(2, optimizer="lbfgs", lr=0.5, progress=False)
    assert loop.optimizer.param_groups[0]["lr"] == 0.5  # and the one given
    loop.fit(2, optimizer="ssbroyden", lr=0.25, progress=False)
    assert loop.optimizer.param_groups[0]["lr"] == 0.25
    assert TrainingLoop(Quadratic(), optimizer="bfgs", lr=0.5).optimizer.param_groups[0]["lr"] == 0.5
    with pytest.raises(ValueError, match="lr=0.5 and optimizer_options\\['lr'\\]=0.1 disagree"):
        TrainingLoop(Quadratic(), optimizer="lbfgs", lr=0.5, optimizer_options={"lr": 0.1})
    spec = pk.optim.MultiAdam(lr=1e-2)
    assert TrainingLoop(Quadratic(), optimizer=spec).optimizer.param_groups[0]["lr"] == 1e-2
    with pytest.raises(ValueError, match="lr=0.1: an optimizer given as a factory .* builds itself with its own"):
        TrainingLoop(Quadratic(), optimizer=spec, lr=0.1)
    with pytest.raises(ValueError, match="an optimizer given as a factory"):
        loop.fit(1, optimizer=lambda params: torch.optim.SGD(params, lr=0.1), lr=0.2, progress=False)


def test_bad_arguments_are_refused_the_same_way_everywhere():
    problem = pk.Problem(pk.geometry.Interval(0, 1), lambda f: f.u_xx + 1.0, conditions=[
        pk.DirichletBC(None, 0.0, n=2)])
    net = pk.nets.MLP(1, 1, width=4, depth=1)
    for bad in (True, 0, -1e-3, float("nan"), float("inf"), "fast"):
        with pytest.raises(ValueError, match="lr must be a positive"):
            pk.Trainer(problem, net, lr=bad)
        with pytest.raises(ValueError, match="lr must be a positive"):
            TrainingLoop(Quadratic(), lr=bad)
    loop = TrainingLoop(Quadratic())
    with pytest.raises(ValueError, match="lr must be a positive"):
        loop.fit(1, lr=True, progress=False)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        loop.fit(1, optimizer="newton", progress=False)
    with pytest.raises(ValueError, match="log_every must be a positive"):
        loop.fit(1, log_every=0, progress=False)
    with pytest.raises(ValueError, match="callbacks must be pinnkit Callbacks"):
        loop.fit(1, callbacks=[print], progress=False)
    with pytest.raises(ValueError, match="loss_weights: unknown term 'c'"):
        TrainingLoop(Quadratic(), loss_weights={"c": 1.0})
    with pytest.raises(ValueError, match=r"loss_weights\['a'\] must be a non-negative finite"):
        TrainingLoop(Quadratic(), loss_weights={"a": float("nan")})
    with pytest.raises(ValueError, match="optimizer_options must be a mapping"):
        TrainingLoop(Quadratic(), optimizer_options=[("betas", (0.9, 0.99))])
    with pytest.raises(ValueError, match="objective must be a pinnkit.training.Objective"):
        TrainingLoop(problem)


def test_a_nan_inside_the_lbfgs_line_search_restores_the_chunk_start():
    loop = TrainingLoop(Quadratic(sqrt=True), lr=1e-3)
    loop.fit(2, progress=False)  # two finite Adam steps
    start, step = loop.objective.x.detach().clone(), loop.step
    with pytest.raises(NonFiniteLossError, match=r"sqrt=nan"):
        loop.fit(50, optimizer="lbfgs", progress=False)  # sqrt(x_0) drives x_0 below zero: NaN in a line search
    assert torch.equal(loop.objective.x.detach(), start) and loop.step == step == 2
    assert loop.optimizer.state_dict()["state"] == {}  # L-BFGS's state as it was when the chunk started
    assert all(math.isfinite(h["loss"]) for h in loop.history)


def operator_problem():
    space = pk.functions.GaussianRandomField(0.5, method="spectral")
    domain = pk.geometry.Interval(0, 1)
    return pk.OperatorProblem(domain, lambda f: f.u_x - f.v, space, np.linspace(0, 1, 10),
                              conditions=[pk.DirichletBC("left", 0.0, n=1)])


def operator_trainer(optimizer="adam", seed=0, **kw):
    torch.manual_seed(seed)
    net = pk.nets.DeepONet([10, 16, 8], [1, 16, 8])
    return pk.OperatorTrainer(operator_problem(), net, functions=12, batch_size=4, optimizer=optimizer,
                              sampler=pk.sampling.FixedPoints(32), dtype=F64, lr=1e-2, **kw)


def test_operator_training_takes_lbfgs_and_holds_the_functions_through_a_chunk():
    trainer = operator_trainer()
    trainer.fit(10, progress=False)
    cursor = trainer.objective._cursor
    before = trainer.history[-1]["loss"]
    trainer.fit(20, optimizer="lbfgs", progress=False, log_every=5)
    assert trainer.optimizer_name == "lbfgs" and trainer.step > 10
    assert trainer.history[-1]["loss"] < before
    chunks = math.ceil(20 / pk.training.QUASI_NEWTON_CHUNK)
    # one batch of functions per chunk, however many line-search evaluations it took
    assert (trainer.objective._cursor - cursor) % len(trainer.features) in {4 * k for k in range(1, chunks + 1)}


@pytest.mark.parametrize("optimizer", ["multiadam", "config", "mconfig", "pcgrad", "lbfgs"])
def test_operator_training_resumes_bitwise_with_every_optimizer(tmp_path, optimizer):
    half = pk.training.QUASI_NEWTON_CHUNK if optimizer == "lbfgs" else 4  # L-BFGS: resume at a chunk's end
    straight = operator_trainer(optimizer)
    straight.fit(2 * half, progress=False)
    first = operator_trainer(optimizer)
    first.fit(half, progress=False)
    first.save(tmp_path / "op.pt")
    resumed = operator_trainer("adam", seed=3)  # another optimizer and initialisation: the checkpoint decides
    resumed.load_state(tmp_path / "op.pt")
    assert resumed.optimizer_name == optimizer
    resumed.fit(half, progress=False)
    assert straight.step == resumed.step
    for a, b in zip(straight.trainable_parameters(), resumed.trainable_parameters(), strict=True):
        assert torch.equal(a, b)
    assert straight.history[-1]["loss"] == resumed.history[-1]["loss"]


def test_operator_checkpoints_refuse_other_kinds(tmp_path):
    trainer = operator_trainer()
    trainer.fit(2, progress=False)
    trainer.save(tmp_path / "op.pt")
    problem = pk.Problem(pk.geometry.Interval(0, 1), lambda f: f.u_xx + 1.0, conditions=[
        pk.DirichletBC(None, 0.0, n=2)])
    pinn = pk.Trainer(problem, pk.nets.MLP(1, 1, width=4, depth=1), dtype=F64)
    with pytest.raises(ValueError, match="holds a 'operator' state, not a 'pinn' one"):
        pinn.load_state(tmp_path / "op.pt")


def decay_fit():
    t = torch.linspace(0, 2, 9, dtype=F64)
    y = torch.exp(-0.8 * t)[:, None] * torch.tensor([[1.0, 0.5]], dtype=F64)
    field = dyn.Autonomous(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2)).double())
    return dyn.TrajectoryFit(dyn.NeuralODE(field, method="rk4", step_size=0.25), t, y, shooting=2)


@pytest.mark.parametrize("optimizer", ["multiadam", "config", "pcgrad", "lbfgs"])
def test_dynamics_fits_take_every_optimizer_and_resume_exactly(tmp_path, optimizer):
    torch.manual_seed(0)
    straight = decay_fit()
    straight.fit(6, optimizer=optimizer, lr=1e-2, progress=False)
    torch.manual_seed(0)
    first = decay_fit()
    first.fit(3, optimizer=optimizer, lr=1e-2, progress=False)
    first.save(tmp_path / "fit.pt")
    torch.manual_seed(5)
    resumed = decay_fit()
    resumed.fit(0, optimizer=optimizer, lr=1e-2, progress=False)
    resumed.load_state(tmp_path / "fit.pt")
    resumed.fit(3, progress=False)
    assert straight.step == resumed.step
    for a, b in zip(straight.trainable_parameters(), resumed.trainable_parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
