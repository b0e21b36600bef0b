"""Each rank's rows and the arguments of data-parallel training, in one process."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import pinnkit as pk
from pinnkit.distributed.ranks import Launch, launch_environment
from pinnkit.distributed.shard import (
    block,
    block_sizes,
    condition_rows,
    global_counts,
    global_rows,
    local_weights,
    shard_batch,
    shares,
    square_sum,
)
from pinnkit.sampling.sampler import scale_points

from ..test_examples import load_example
from . import scenarios

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def ranks(rank: int, world_size: int) -> pk.distributed.Ranks:
    return pk.distributed.Ranks(rank, world_size, torch.device("cpu"))


@pytest.mark.parametrize("n, world", [(10, 3), (7, 2), (2, 2), (1000, 7)])
def test_the_blocks_cover_the_rows_in_order_once(n, world):
    rows = torch.cat([torch.arange(n)[block(n, ranks(q, world))] for q in range(world)])
    assert torch.equal(rows, torch.arange(n))
    assert block_sizes(n, world) == [block(n, ranks(q, world)).stop - block(n, ranks(q, world)).start
                                     for q in range(world)]
    assert max(block_sizes(n, world)) - min(block_sizes(n, world)) <= 1


def test_condition_rows_split_points_pairs_or_nothing():
    problem = scenarios.heat_problem()
    initial, periodic, neumann = problem.conditions
    assert torch.equal(condition_rows(initial, 21, ranks(1, 2)), torch.arange(10, 21))
    # a periodic condition's rows are pairs (i, n/2 + i): each rank takes whole pairs
    assert torch.equal(condition_rows(periodic, 18, ranks(0, 2)), torch.tensor([0, 1, 2, 3, 9, 10, 11, 12]))
    mean = pk.MeanValue(0.0, n=4)
    assert torch.equal(condition_rows(mean, 12, ranks(1, 2)), torch.arange(12))  # couples its points: all of them
    assert torch.equal(condition_rows(neumann, 1, ranks(1, 2)), torch.arange(1))  # fewer rows than ranks


def test_the_shares_of_a_batch_give_the_whole_loss():
    """The ranks' partial sums over their shares add up to one process's mean squares, for every condition."""
    problem = scenarios.heat_problem()
    net = scenarios.net().double()
    batch = problem.batch(problem.domain.sample_interior(40, "sobol", seed=0, dtype=torch.float64),
                          problem.sample_conditions(1), dtype=torch.float64)
    evaluator = problem.evaluator(net, "autograd")
    whole = {k: v.square().mean(dim=0).sum() for k, v in evaluator.residuals(batch).items()}
    sums = dict.fromkeys(whole, 0.0)
    counts = dict.fromkeys(whole, 0)
    for q in range(3):
        local, rows = shard_batch(batch, problem.conditions, ranks(q, 3))
        assert len(rows["pde"]) == block_sizes(40, 3)[q]
        assert torch.equal(batch.points[global_rows(batch, rows)], local.points)  # what operator training takes
        for k, r in evaluator.residuals(local).items():
            s, c = square_sum(r)
            sums[k] += float(s.detach())
            counts[k] += c
    for k in whole:
        assert sums[k] / counts[k] == pytest.approx(float(whole[k]), rel=1e-12), k


@pytest.mark.parametrize("problem", [scenarios.heat_problem(), scenarios.inverse_problem()], ids=["heat", "inverse"])
@pytest.mark.parametrize("world_size", [2, 3])
def test_global_counts_are_the_ranks_counts_summed_without_a_collective(problem, world_size):
    """Rows, pairs (periodic) and conditions every rank evaluates whole (the mean value; too few rows): the count
    each rank works out alone is what an all-reduce of their counts would give, and the shares add up to the
    whole loss."""
    net = scenarios.net().double()
    batch = problem.batch(problem.domain.sample_interior(40, "sobol", seed=0, dtype=torch.float64),
                          problem.sample_conditions(1), dtype=torch.float64)
    evaluator = problem.evaluator(net, "autograd", {k: torch.tensor(v, dtype=torch.float64)
                                                    for k, v in problem.parameters.items()})
    whole = {k: float(v.square().mean(dim=0).sum()) for k, v in evaluator.residuals(batch).items()}
    counted, summed = [], dict.fromkeys(whole, 0.0)
    for q in range(world_size):
        local, _ = shard_batch(batch, problem.conditions, ranks(q, world_size))
        parts = {k: square_sum(r) for k, r in evaluator.residuals(local).items()}
        counts = global_counts(batch, problem.conditions, ranks(q, world_size), {k: c for k, (_, c) in parts.items()})
        counted.append(counts)
        for k, v in shares(parts, counts).items():
            summed[k] += float(v)
        for k in parts:
            counted[-1][k + " local"] = parts[k][1]
    for k in whole:
        assert all(c[k] == counted[0][k] for c in counted), k
        assert counted[0][k] == sum(c[k + " local"] for c in counted), k
        assert summed[k] == pytest.approx(whole[k], rel=1e-12), k


def test_local_weights_take_this_ranks_rows():
    rows = {"pde": torch.tensor([2, 3]), "ic": torch.tensor([0])}
    w = torch.arange(5.0)
    assert torch.equal(local_weights(w, rows), torch.tensor([2.0, 3.0]))
    out = local_weights({"pde": w, "ic": torch.tensor([7.0, 8.0]), "bc": torch.tensor(2.0)}, rows)
    assert torch.equal(out["pde"], torch.tensor([2.0, 3.0])) and torch.equal(out["ic"], torch.tensor([7.0]))
    assert float(out["bc"]) == 2.0 and local_weights(None, rows) is None


def test_data_parallel_arguments_are_checked():
    with pytest.raises(ValueError, match="scaling must be one of"):
        pk.distributed.DataParallel(scaling="linear")
    with pytest.raises(ValueError, match="backend must be one of"):
        pk.distributed.DataParallel(backend="mpi")
    with pytest.raises(ValueError, match="timeout"):
        pk.distributed.DataParallel(timeout=0)
    with pytest.raises(ValueError, match="operator_split must be one of"):
        pk.distributed.DataParallel(operator_split="rows")


def test_one_process_without_a_launcher(monkeypatch):
    for key in LAUNCH_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    cpu = torch.device("cpu")
    assert pk.distributed.start(None, cpu) is None and pk.distributed.start(False, cpu) is None
    assert pk.distributed.is_main() and not pk.distributed.launched()
    with pytest.raises(ValueError, match="distributed=True needs a torch.distributed process group"):
        pk.distributed.start(True, cpu)
    with pytest.raises(ValueError, match="launch with torchrun"):
        pk.Trainer(scenarios.heat_problem(), scenarios.net(), distributed=pk.distributed.DataParallel())
    with pytest.raises(ValueError, match="distributed must be None, True, False or"):
        pk.Trainer(scenarios.heat_problem(), scenarios.net(), distributed="gloo")
    trainer = scenarios.build("adam", None)
    assert trainer.ranks is None and trainer.is_main and not trainer.objective.sharded


LAUNCH_VARIABLES = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "SLURM_PROCID",
                    "SLURM_NTASKS", "SLURM_LOCALID")


def test_the_launchers_environment_torchrun_or_slurm(monkeypatch):
    for key in LAUNCH_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SLURM_PROCID", "3")
    monkeypatch.setenv("SLURM_NTASKS", "4")
    monkeypatch.setenv("SLURM_LOCALID", "1")
    assert launch_environment() is None  # no rendezvous address: not launched for a process group
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "29500")
    assert launch_environment() == Launch(rank=3, world_size=4, local_rank=1) and not pk.distributed.is_main()
    monkeypatch.setenv("RANK", "0")  # torchrun's variables win (srun torchrun ...)
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert launch_environment() == Launch(rank=0, world_size=2, local_rank=0) and pk.distributed.is_main()
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(ValueError, match="RANK=2 is not a rank of WORLD_SIZE=2"):
        launch_environment()
    monkeypatch.setenv("RANK", "first")
    with pytest.raises(ValueError, match="must hold integers"):
        launch_environment()
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert launch_environment() is None and not pk.distributed.launched()


def test_weak_scaling_needs_a_pool_sampler():
    given = pk.sampling.GivenPoints(torch.rand(10, 2), pk.sampling.FixedPoints(5))
    with pytest.raises(ValueError, match="weak scaling multiplies a pool sampler's point count"):
        scale_points(given, 2)
    rad = pk.sampling.RAD(10, period=5)
    scale_points(rad, 3)
    assert (rad.n, rad.candidates) == (30, 300)


@pytest.mark.parametrize("example", ["high_dim_poisson", "high_dim_allen_cahn", "high_dim_hjb", "neural_ode_spiral",
                                     "neural_sde_ou", "lotka_volterra_ude", "collocation_points"])
def test_examples_that_train_in_one_process_refuse_a_launcher(monkeypatch, capsys, tmp_path, example):
    module = load_example(EXAMPLES / f"{example}.py")
    for key, value in {"RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit):
        module.main(["--quick", "--out", str(tmp_path)])
    assert "trains in one process" in capsys.readouterr().err and not list(tmp_path.iterdir())
