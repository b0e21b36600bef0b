"""Two gloo ranks (spawned processes, float64) against one process on the same global points (issue 19's bar:
1e-10 over 20 steps), resume under two ranks, weak scaling, and a failure on one rank ending both."""

from __future__ import annotations

import time

import pytest
import torch
import torch.multiprocessing as mp

import pinnkit as pk
from pinnkit.errors import CheckpointError

from . import scenarios
from .launch import run_ranks

pytestmark = pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not available")


@pytest.fixture(scope="module")
def two_ranks():
    """Every scenario on two ranks, in one launch (each launch costs two interpreter starts)."""
    return run_ranks(scenarios.run_all, scenarios.SCENARIOS)


@pytest.mark.parametrize("name", scenarios.SCENARIOS)
def test_two_ranks_take_the_steps_of_one_process(two_ranks, name):
    one = scenarios.run(name, False)
    first, second = two_ranks[0][name], two_ranks[1][name]
    assert second["step"] == first["step"] == one["step"] == scenarios.STEPS
    for key in ("params", "loss", "points"):
        assert torch.equal(first[key], second[key]), f"{name}: the ranks disagree on {key}"
        torch.testing.assert_close(first[key], one[key], rtol=0, atol=1e-10, msg=f"{name}: {key}")
    if name in ("r3", "rad"):  # the points moved, and moved alike
        assert not torch.equal(first["points"], scenarios.build(name, False).sampler.points(0))


def test_the_residual_is_gathered_from_the_ranks_only_for_a_sampler_that_reads_it(two_ranks):
    """R3 keeps points by the step's residual, so every step gathers it; a fixed set never looks at it, and
    gathering it anyway cost a collective per step (about 2 ms of a 55 ms Kovasznay step on this machine)."""
    for rank in two_ranks:
        assert rank["adam"]["collectives"]["all_gather"] == 0
        assert rank["r3"]["collectives"]["all_gather"] >= scenarios.STEPS


def test_a_first_order_step_is_one_all_reduce_of_the_gradients_and_the_loss_values(two_ranks):
    """The ranks' shares of the loss values travel with the gradients (after the backward pass), so a plain
    Adam step synchronises the ranks once; the operator objective too, with either split."""
    for rank in two_ranks:
        for name in ("adam", "inverse", "stde", "operator", "operator_functions"):
            assert rank[name]["collectives"]["all_reduce"] == scenarios.STEPS, name


def test_samplers_say_whether_they_read_the_residual():
    assert not pk.sampling.FixedPoints(10).uses_residual and not pk.sampling.Resample(10).uses_residual
    assert not pk.sampling.RAD(10).uses_residual  # its own candidates' residuals, not the step's
    assert pk.sampling.R3(10).uses_residual and pk.sampling.CausalR3(10).uses_residual
    given = [[0.0, 0.5]]
    assert pk.sampling.GivenPoints(given, pk.sampling.R3(10)).uses_residual
    assert not pk.sampling.GivenPoints(given, pk.sampling.FixedPoints(10)).uses_residual
    assert not pk.sampling.GivenPoints(given).uses_residual

    class Mine(pk.sampling.Sampler):  # a user's sampler is handed the residual unless it says otherwise
        def points(self, step):
            return torch.zeros(1, 2)

    assert Mine().uses_residual


def affinity_run() -> dict:
    import os
    before = sorted(os.sched_getaffinity(0))
    trainer = scenarios.pinn("adam", pk.distributed.DataParallel(cpu_affinity=True))
    trainer.fit(2, progress=False)
    return {"before": before, "after": sorted(os.sched_getaffinity(0)), "params": scenarios.outcome(trainer)["params"]}


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_setaffinity"), reason="needs os.sched_setaffinity")
def test_cpu_affinity_gives_each_rank_its_own_cpus():
    ranks = run_ranks(affinity_run)
    cpus = ranks[0]["before"]
    if len(cpus) < 2:
        pytest.skip("one CPU: two ranks cannot have CPUs of their own")
    half = len(cpus) // 2
    assert ranks[0]["after"] == cpus[:half] and ranks[1]["after"] == cpus[half:2 * half]
    assert torch.equal(ranks[0]["params"], ranks[1]["params"])


def resume_run(path: str) -> dict:
    """On each rank: 10 steps, a checkpoint, 10 more; then a fresh trainer resumes the checkpoint for the last 10."""
    out = {}
    for name in ("rad", "multiadam"):
        trainer = scenarios.build(name, None)
        trainer.fit(10, progress=False)
        trainer.save(f"{path}/{name}.pt")
        trainer.fit(10, progress=False)
        resumed = scenarios.build(name, None)
        resumed.load_state(f"{path}/{name}.pt")
        resumed.fit(10, progress=False)
        out[name] = (scenarios.outcome(trainer), scenarios.outcome(resumed))
    return out


def test_resume_under_two_ranks_is_bitwise_and_resumes_in_one_process(tmp_path):
    ranks = run_ranks(resume_run, str(tmp_path))
    for name, (straight, resumed) in ranks[0].items():
        for key in ("params", "points"):
            assert torch.equal(straight[key], resumed[key]), f"{name}: {key}"
        assert straight["step"] == resumed["step"] == 20
        # strong scaling: the checkpoint of two ranks resumes in one process, on the same steps
        alone = scenarios.build(name, False)
        alone.load_state(tmp_path / f"{name}.pt")
        alone.fit(10, progress=False)
        torch.testing.assert_close(scenarios.outcome(alone)["params"], straight["params"], rtol=0, atol=1e-10)


def weak_run(path: str) -> dict:
    torch.manual_seed(0)
    trainer = pk.Trainer(scenarios.heat_problem(), scenarios.net(), sampler=pk.sampling.FixedPoints(30),
                         dtype=torch.float64, seed=1, lr=1e-2, distributed=pk.distributed.DataParallel(scaling="weak"))
    trainer.fit(5, progress=False)
    trainer.save(f"{path}/weak.pt")
    out = {"pinn": scenarios.outcome(trainer)}
    for split in ("points", "functions"):
        operator = scenarios.operator(pk.distributed.DataParallel(scaling="weak", operator_split=split))
        operator.fit(5, progress=False)
        out[split] = {**scenarios.outcome(operator), "batch_size": operator.batch_size}
    return out


def test_weak_scaling_counts_points_per_rank_and_refuses_another_world_size(tmp_path):
    ranks = run_ranks(weak_run, str(tmp_path))
    assert len(ranks[0]["pinn"]["points"]) == 60
    alone = pk.Trainer(scenarios.heat_problem(), scenarios.net(), sampler=pk.sampling.FixedPoints(60),
                       dtype=torch.float64, seed=1, lr=1e-2, distributed=False)
    alone.fit(5, progress=False)
    torch.testing.assert_close(scenarios.outcome(alone)["params"], ranks[0]["pinn"]["params"], rtol=0, atol=1e-10)
    with pytest.raises(CheckpointError, match="written by 2 rank"):
        alone.load_state(tmp_path / "weak.pt")
    # operator training: twice the points (split points) or twice the functions per step (split functions)
    assert len(ranks[0]["points"]["points"]) == 66 and ranks[0]["points"]["batch_size"] == 5
    assert len(ranks[0]["functions"]["points"]) == 33 and ranks[0]["functions"]["batch_size"] == 10
    for split, points, batch_size in (("points", 66, 5), ("functions", 33, 10)):
        one = scenarios.operator(False, points=points, batch_size=batch_size)
        one.fit(5, progress=False)
        torch.testing.assert_close(scenarios.outcome(one)["params"], ranks[0][split]["params"], rtol=0, atol=1e-10,
                                   msg=split)
        assert torch.equal(ranks[0][split]["params"], ranks[1][split]["params"])


def fail_on_rank_one() -> None:
    trainer = scenarios.build("adam", None)
    if torch.distributed.get_rank() == 1:
        raise RuntimeError("rank one cannot go on")
    trainer.fit(1000, progress=False)  # rank 0 waits in the first all-reduce


def test_a_failure_on_one_rank_ends_both_with_its_message():
    start = time.perf_counter()
    with pytest.raises(mp.ProcessRaisedException, match="rank one cannot go on"):
        run_ranks(fail_on_rank_one)
    assert time.perf_counter() - start < 60
