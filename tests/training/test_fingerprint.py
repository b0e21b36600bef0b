"""Checkpoints and samplers are tied to their problem: a checkpoint loads only into the set-up it was written for
(or its network weights alone, on request), a sampler or weighting serves one live trainer, and a resumed
optimizer is kept or said to be replaced."""

import gc
import math
import warnings

import pytest
import torch

import pinnkit as pk
from pinnkit.errors import CheckpointError


def burgers_trainer(seed=0, **kwargs):
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    problem = pk.Problem(domain, lambda f: f.u_t + f.u * f.u_x - 0.01 / math.pi * f.u_xx, outputs="u",
                         conditions=[pk.InitialCondition(lambda x: -torch.sin(math.pi * x[:, :1]), n=16)])
    torch.manual_seed(seed)
    options = {"sampler": pk.sampling.FixedPoints(64), "dtype": torch.float64, **kwargs}
    return pk.Trainer(problem, pk.nets.MLP(2, 1, width=8, depth=2), **options)


def poisson_trainer(width=8, **kwargs):
    domain = pk.geometry.Rectangle((0, 0), (1, 1))
    problem = pk.Problem(domain, lambda f: f.u_xx + f.u_yy + 1.0, outputs="u",
                         conditions=[pk.DirichletBC(None, 0.0, n=16)])
    torch.manual_seed(1)
    options = {"sampler": pk.sampling.FixedPoints(64), "dtype": torch.float64, **kwargs}
    return pk.Trainer(problem, pk.nets.MLP(2, 1, width=width, depth=2), **options)


def test_a_checkpoint_of_another_problem_is_refused_with_the_differences(tmp_path):
    source = burgers_trainer()
    source.fit(3, progress=False)
    source.save(tmp_path / "burgers.pt")
    target = poisson_trainer()  # the same network shape: its weights would load
    with pytest.raises(CheckpointError) as info:
        target.load_state(tmp_path / "burgers.pt")
    message = str(info.value)
    assert "burgers.pt was written for another set-up" in message
    assert "coordinates: ['x', 't'] in the file, ['x', 'y'] here" in message
    assert "conditions:" in message and "strict=False" in message
    assert target.step == 0  # nothing was loaded


def test_a_different_network_or_dtype_is_listed(tmp_path):
    source = poisson_trainer()
    source.save(tmp_path / "a.pt")
    with pytest.raises(CheckpointError, match="net: .*in the file"):
        poisson_trainer(width=9).load_state(tmp_path / "a.pt")
    domain = pk.geometry.Rectangle((0, 0), (1, 1))
    problem = pk.Problem(domain, lambda f: f.u_xx + f.u_yy + 1.0, outputs="u",
                         conditions=[pk.DirichletBC(None, 0.0, n=16)])
    single = pk.Trainer(problem, pk.nets.MLP(2, 1, width=8, depth=2), sampler=pk.sampling.FixedPoints(64))
    with pytest.raises(CheckpointError, match="dtype: 'float64' in the file, 'float32' here"):
        single.load_state(tmp_path / "a.pt")


def test_strict_false_loads_only_the_network_weights(tmp_path):
    source = burgers_trainer()
    source.fit(4, progress=False)
    source.save(tmp_path / "burgers.pt")
    target = poisson_trainer()
    target.load_state(tmp_path / "burgers.pt", strict=False)
    for a, b in zip(target.net.parameters(), source.net.parameters(), strict=True):
        assert torch.equal(a, b)
    assert target.step == 0 and target.history == [] and not target.optimizer.state_dict()["state"]
    points = target.sampler.points(0)
    assert bool(target.problem.domain.inside(points).all())  # its own points, not the file's
    target.fit(2, progress=False)
    with pytest.raises(CheckpointError, match="do not fit this network .*of other shapes"):
        poisson_trainer(width=5).load_state(tmp_path / "burgers.pt", strict=False)


def test_a_sampler_serves_one_live_trainer_and_rebinds_when_it_is_gone():
    sampler = pk.sampling.Resample(64, every=2)
    first = burgers_trainer(sampler=sampler)
    with pytest.raises(ValueError, match="sampler: this Resample is already in use by another trainer"):
        poisson_trainer(sampler=sampler)
    del first
    gc.collect()
    second = poisson_trainer(sampler=sampler)  # the Burgers trainer is gone: bound afresh to the square
    points = second.sampler.points(0)
    assert bool(second.problem.domain.inside(points).all()) and sampler.every.last_step is None
    second.fit(3, progress=False)
    assert bool(second.problem.domain.inside(second.sampler.points(3)).all())


def test_a_weighting_serves_one_live_trainer_and_copies_are_free():
    import copy

    weighting = pk.weighting.CausalWeighting(chunks=4)
    spare = copy.deepcopy(weighting)
    first = burgers_trainer(weighting=weighting)
    with pytest.raises(ValueError, match="weighting: this CausalWeighting is already in use"):
        burgers_trainer(weighting=weighting)
    burgers_trainer(weighting=spare)  # a copy made before belongs to no trainer
    burgers_trainer(weighting=copy.deepcopy(spare))
    assert first.weighting is weighting


def test_resuming_lbfgs_keeps_its_options_and_state(tmp_path):
    straight = burgers_trainer()
    straight.fit(3, progress=False)
    straight.fit(10, optimizer="lbfgs", optimizer_options={"history_size": 7}, progress=False)
    straight.save(tmp_path / "l.pt")
    straight.fit(10, optimizer="lbfgs", progress=False)  # the same optimizer again: its state goes on
    resumed = burgers_trainer(seed=5)
    resumed.load_state(tmp_path / "l.pt")
    assert resumed.optimizer_name == "lbfgs" and resumed.optimizer.param_groups[0]["history_size"] == 7
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # keeping the restored optimizer says nothing
        resumed.fit(10, optimizer="lbfgs", progress=False)
    assert resumed.step == straight.step
    assert resumed.history[-1]["loss"] == pytest.approx(straight.history[-1]["loss"], rel=1e-9)


def test_replacing_a_restored_optimizer_says_so(tmp_path):
    source = burgers_trainer()
    source.fit(3, progress=False)
    source.save(tmp_path / "a.pt")
    resumed = burgers_trainer()
    resumed.load_state(tmp_path / "a.pt")
    with pytest.warns(UserWarning, match="starts a new optimizer: the adam state restored from .*a.pt"):
        resumed.fit(2, lr=1e-4, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # later switches are ordinary
        resumed.fit(2, optimizer="lbfgs", progress=False)
