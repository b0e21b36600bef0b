"""The compiled PINN step (``Backend("taylor", compile=True)``: the whole residual evaluation, jets, residual and
conditions, one graph, its backward compiled too; with Adam the whole step one graph) against the eager step: 50
float64 steps alike to round-off for Adam, MultiAdam, ConFIG and under RAD and R3 resampling, no recompilation once
running, and checkpoints that resume exactly."""

from __future__ import annotations

import math

import pytest
import torch

import pinnkit as pk

NU = 0.01 / math.pi
STEPS = 50
WARM = 11


def burgers_trainer(compile: bool, optimizer: str = "adam", sampler: str = "fixed") -> pk.Trainer:
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    problem = pk.Problem(domain, lambda f: f.u_t + f.u * f.u_x - NU * f.u_xx, outputs="u", conditions=[
        pk.DirichletBC(domain.boundary, 0.0, n=40),
        pk.InitialCondition(lambda x: -torch.sin(math.pi * x[:, :1]), n=40)])
    torch.manual_seed(0)
    net = pk.nets.MLP(2, 1, width=8, depth=2)
    points = {"fixed": pk.sampling.FixedPoints(300, "random"), "rad": pk.sampling.RAD(300, period=10),
              "r3": pk.sampling.R3(300)}[sampler]
    return pk.Trainer(problem, net, sampler=points, optimizer=optimizer, lr=1e-2, dtype=torch.float64, seed=3,
                      backend=pk.Backend("taylor", compile=compile))


def flat(trainer: pk.Trainer) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in trainer.net.parameters()])


def compiled_of(trainer: pk.Trainer) -> pk.derivatives.Compiled:
    return trainer.objective.evaluator.backend.compiled


@pytest.mark.parametrize("optimizer, sampler", [("adam", "fixed"), ("multiadam", "fixed"), ("config", "fixed"),
                                                ("adam", "rad"), ("adam", "r3")])
def test_compiled_steps_are_the_eager_steps(optimizer, sampler):
    eager, compiled = burgers_trainer(False, optimizer, sampler), burgers_trainer(True, optimizer, sampler)
    eager.fit(WARM, progress=False)
    compiled.fit(WARM, progress=False)  # past RAD's first redraw, whose candidates compile the jet on their own
    graphs = compiled_of(compiled).compilations
    assert graphs >= 1 and compiled_of(compiled).compile_seconds > 0
    eager.fit(STEPS - WARM, progress=False)
    compiled.fit(STEPS - WARM, progress=False)
    assert compiled_of(compiled).compilations == graphs, "recompiled while training (resampling keeps the shapes)"
    if optimizer in ("adam", "config", "multiadam"):  # every step after the first: one graph (fused_step)
        assert compiled._fused.steps == STEPS - 1
    torch.testing.assert_close(flat(compiled), flat(eager), rtol=0, atol=1e-12)
    losses = [r["loss"] for r in compiled.history]
    torch.testing.assert_close(torch.tensor(losses), torch.tensor([r["loss"] for r in eager.history]), rtol=1e-12,
                               atol=0)
    if sampler != "fixed":  # the points moved, alike
        assert torch.equal(compiled.sampler.points(compiled.step), eager.sampler.points(eager.step))


def test_a_compiled_run_resumes_exactly_from_its_checkpoint(tmp_path):
    straight = burgers_trainer(True, "adam", "rad")
    straight.fit(20, progress=False)
    straight.save(tmp_path / "ckpt.pt")
    straight.fit(20, progress=False)
    resumed = burgers_trainer(True, "adam", "rad")
    resumed.load_state(tmp_path / "ckpt.pt")
    resumed.fit(20, progress=False)
    assert torch.equal(flat(straight), flat(resumed)) and resumed.step == straight.step == 40


def test_only_a_forward_jet_is_traced_whole():
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    problem = pk.Problem(domain, lambda f: f.u_t - f.u_xx, outputs="u")
    mlp = pk.nets.MLP(2, 1, width=4, depth=1)
    hard = pk.nets.HardConstraint(pk.nets.MLP(2, 1, width=4, depth=1), 0.0,
                                  pk.nets.Expression("t*(1 - x**2)", domain.names))
    local = pk.nets.LocalTime(pk.nets.MLP(2, 1, width=4, depth=1), (0.0, 0.5), (0.0, 1.0))
    compiled = pk.Backend("taylor", compile=True)
    assert pk.derivatives.traceable_jet(mlp) and pk.derivatives.traceable_jet(local)
    assert not pk.derivatives.traceable_jet(hard) and not pk.derivatives.traceable_jet(torch.nn.Linear(2, 1))
    assert problem.evaluator(mlp, compiled).traced and problem.evaluator(local, compiled).traced
    assert not problem.evaluator(hard, compiled).traced  # its jet alone is compiled
    assert not problem.evaluator(mlp, "taylor").traced


def test_a_neumann_condition_is_traced_with_the_rest():
    """A Neumann condition reads which axes its normals have off the data when eager; traced it takes every axis
    (exact zeros for the others), so the evaluation stays one graph and matches the eager one."""
    def trainer(compile):
        domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
        problem = pk.Problem(domain, lambda f: f.u_t - 0.1 * f.u_xx, outputs="u", conditions=[
            pk.InitialCondition(lambda x: -torch.sin(math.pi * x[:, :1]), n=21),
            pk.NeumannBC(domain.boundary, 0.0, n=11)])
        torch.manual_seed(0)
        return pk.Trainer(problem, pk.nets.MLP(2, 1, width=8, depth=2), sampler=pk.sampling.FixedPoints(50),
                          backend=pk.Backend("taylor", compile=compile), dtype=torch.float64, lr=1e-2, seed=1)

    eager, compiled = trainer(False), trainer(True)
    eager.fit(12, progress=False)
    compiled.fit(12, progress=False)
    torch.testing.assert_close(flat(compiled), flat(eager), rtol=0, atol=1e-12)
    # the evaluation and the update, one graph each (a graph break would skip the evaluation: 1)
    assert compiled_of(compiled).compilations == 2, compiled_of(compiled)
