"""The few collective operations data-parallel training needs, each over all ranks of the running group.

Every rank must call them in the same order with tensors of the same shapes (the training loop does: all ranks
run the same steps on the same global state). Tensors are moved to the group's device for the transfer and back.
Every sum over the ranks goes through :func:`all_reduce_sum`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.distributed as dist
from torch import Tensor

from .ranks import Ranks

#: Largest message (bytes) that :func:`all_reduce_sum` sums by recursive doubling. Each rank sends the whole
#: message log2(W) times, against 2 (W - 1) / W times in a ring all-reduce, so long messages, whose cost is
#: bandwidth rather than latency, go to gloo's own all-reduce.
RECURSIVE_DOUBLING_BYTES = 1 << 21


def all_reduce_sum(tensor: Tensor, ranks: Ranks) -> None:
    """Replace ``tensor`` (any shape; contiguous, on the ranks' device) in place by its sum over the ranks, with
    the same bits on every rank.

    On a gloo group whose world size W is a power of two, for CPU tensors of up to
    :data:`RECURSIVE_DOUBLING_BYTES`, this is **recursive doubling** (Thakur, Rabenseifner & Gropp, "Optimization
    of collective communication operations in MPICH", IJHPCA 2005): in round k = 0, 1, ..., log2(W) - 1 rank r
    exchanges its partial sum with rank r XOR 2^k (``isend`` / ``irecv``) and adds what it receives,

        s_r^(k+1) = s_r^(k) + s_(r XOR 2^k)^(k),        s_r^(0) = x_r,

    so after round k, s_r covers the 2^(k+1) ranks of r's block, and its two partners hold the same pair of
    addends: IEEE addition is commutative, so both compute the same bits and all ranks end equal.

    Why not ``dist.all_reduce`` on gloo: for the small messages of a training step (the gradients of a few
    thousand to a few hundred thousand numbers) its latency was about twice that of one pairwise exchange on
    the 2-core CPU machine this was measured on (``benchmarks/allreduce_latency.py``; the README has the
    numbers). Other backends (NCCL), CUDA tensors on gloo (whose send and receive take CPU tensors only), other
    world sizes and longer messages use ``dist.all_reduce``.
    """
    w = ranks.world_size
    nbytes = tensor.numel() * tensor.element_size()
    if (dist.get_backend() != "gloo" or tensor.device.type != "cpu"  # gloo's send/recv take CPU tensors only
            or w & (w - 1) or nbytes > RECURSIVE_DOUBLING_BYTES or not tensor.is_contiguous()):
        dist.all_reduce(tensor)
        return
    received = torch.empty_like(tensor)
    step = 1
    while step < w:
        peer = ranks.rank ^ step
        sent, got = dist.isend(tensor, peer), dist.irecv(received, peer)
        sent.wait()
        got.wait()
        tensor += received
        step *= 2


def sum_tensors(tensors: Sequence[Tensor], ranks: Ranks, *, average: bool = False) -> None:
    """Replace each of ``tensors`` in place by its sum over the ranks (its mean with ``average``), in one
    all-reduce of their concatenation (one message per step however many parameters there are)."""
    tensors = list(tensors)
    if not tensors:
        return
    flat = _flat(tensors, ranks)
    all_reduce_sum(flat, ranks)
    if average:
        flat /= ranks.world_size
    _copy_back(flat, tensors)


def sum_values(values: Tensor, ranks: Ranks) -> Tensor:
    """The sum over the ranks of a 1-D tensor of values (a new tensor on the values' device)."""
    out = values.detach().to(ranks.device).clone()
    all_reduce_sum(out, ranks)
    return out.to(values.device)


def gather_rows(local: Tensor, sizes: Sequence[int], ranks: Ranks) -> Tensor:
    """The ranks' ``local`` blocks of rows concatenated in rank order: rank ``q`` holds ``sizes[q]`` rows
    (``local`` is (sizes[rank], ...)); the result is (sum(sizes), ...) on every rank."""
    if local.shape[0] != sizes[ranks.rank]:
        raise ValueError(f"gather_rows: rank {ranks.rank} holds {local.shape[0]} rows, not {sizes[ranks.rank]}")
    top = max(sizes)
    padded = torch.zeros((top, *local.shape[1:]), dtype=local.dtype, device=ranks.device)
    padded[:local.shape[0]] = local.detach().to(ranks.device)
    parts = [torch.empty_like(padded) for _ in range(ranks.world_size)]
    dist.all_gather(parts, padded)
    return torch.cat([p[:n] for p, n in zip(parts, sizes, strict=True)]).to(local.device)


def broadcast_tensors(tensors: Sequence[Tensor], ranks: Ranks) -> None:
    """Overwrite ``tensors`` in place with rank 0's values (so that every rank starts from the same network)."""
    tensors = list(tensors)
    if not tensors:
        return
    flat = _flat(tensors, ranks)
    dist.broadcast(flat, 0)
    _copy_back(flat, tensors)


def barrier(ranks: Ranks) -> None:
    """Wait until every rank gets here (after rank 0 wrote a file the others may read)."""
    del ranks
    dist.barrier()


def _flat(tensors: list[Tensor], ranks: Ranks) -> Tensor:
    """``tensors`` concatenated into one 1-D tensor on the ranks' device (one message for all of them)."""
    return torch.cat([t.detach().reshape(-1) for t in tensors]).to(ranks.device)


def _copy_back(flat: Tensor, tensors: list[Tensor]) -> None:
    """Write the consecutive pieces of ``flat`` back into ``tensors``, in place."""
    offset = 0
    with torch.no_grad():
        for t in tensors:
            n = t.numel()
            t.copy_(flat[offset:offset + n].view_as(t))
            offset += n
