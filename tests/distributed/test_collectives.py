"""``all_reduce_sum``, the one sum over the ranks: recursive doubling on power-of-two gloo groups, gloo's own
all-reduce otherwise. Every rank must end with the same bits, and with the sum to round-off."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist

from pinnkit.distributed import collectives
from pinnkit.distributed.ranks import Ranks

from .launch import run_ranks

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")

SIZES = (1, 7, 5000, collectives.RECURSIVE_DOUBLING_BYTES // 8 + 3)  # the last is over the limit (float64)


def rank_values(rank: int, n: int) -> torch.Tensor:
    """Values of very different magnitudes, so that the order of summation shows in the last bits."""
    g = torch.Generator().manual_seed(1000 * rank + n)
    return torch.randn(n, generator=g, dtype=torch.float64) * 10.0 ** torch.randint(-8, 8, (n,), generator=g)


def sums() -> dict:
    """What each rank gets for every size, and which transport carried it (point-to-point calls counted)."""
    ranks = Ranks(dist.get_rank(), dist.get_world_size(), torch.device("cpu"))
    sends = {"isend": 0, "all_reduce": 0}
    saved = dist.isend, dist.all_reduce

    def isend(*args, **kwargs):
        sends["isend"] += 1
        return saved[0](*args, **kwargs)

    def all_reduce(*args, **kwargs):
        sends["all_reduce"] += 1
        return saved[1](*args, **kwargs)

    out = {}
    dist.isend, dist.all_reduce = isend, all_reduce
    try:
        for n in SIZES:
            before = dict(sends)
            x = rank_values(ranks.rank, n)
            collectives.all_reduce_sum(x, ranks)
            out[n] = {"sum": x, "isend": sends["isend"] - before["isend"],
                      "all_reduce": sends["all_reduce"] - before["all_reduce"]}
    finally:
        dist.isend, dist.all_reduce = saved
    return out


@pytest.mark.parametrize("world_size", [2, 3, 4])
def test_every_rank_gets_the_same_bits_and_the_sum(world_size):
    results = run_ranks(sums, world_size=world_size)
    for n in SIZES:
        exact = torch.stack([rank_values(r, n) for r in range(world_size)]).sum(0)
        for r in range(world_size):
            assert torch.equal(results[r][n]["sum"], results[0][n]["sum"]), f"rank {r} differs at n={n}"
        scale = torch.stack([rank_values(r, n).abs() for r in range(world_size)]).sum(0)
        assert bool(((results[0][n]["sum"] - exact).abs() <= 4 * torch.finfo(torch.float64).eps * scale).all())
        power_of_two = world_size & (world_size - 1) == 0
        doubling = power_of_two and n * 8 <= collectives.RECURSIVE_DOUBLING_BYTES
        rounds = world_size.bit_length() - 1
        for r in range(world_size):
            assert results[r][n]["isend"] == (rounds if doubling else 0), (world_size, n)
            assert results[r][n]["all_reduce"] == (0 if doubling else 1), (world_size, n)


def cuda_sum() -> torch.Tensor:
    """A CUDA tensor summed over a gloo group (gloo's send and receive take CPU tensors only)."""
    ranks = Ranks(dist.get_rank(), dist.get_world_size(), torch.device("cuda", 0))
    x = rank_values(ranks.rank, 100).cuda()
    collectives.all_reduce_sum(x, ranks)
    return x.cpu()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_tensors_on_gloo_are_summed_by_gloos_all_reduce():
    results = run_ranks(cuda_sum, world_size=2)
    exact = rank_values(0, 100) + rank_values(1, 100)
    for result in results:
        torch.testing.assert_close(result, exact, rtol=0, atol=1e-12)
