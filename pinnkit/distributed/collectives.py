"""The few collective operations data-parallel training needs, each over all ranks of the running group.

Every rank must call them in the same order with tensors of the same shapes (the training loop does: all ranks
run the same steps on the same global state). Tensors are moved to the group's device for the transfer and back.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.distributed as dist
from torch import Tensor

from .ranks import Ranks


def sum_tensors(tensors: Sequence[Tensor], ranks: Ranks, *, average: bool = False) -> None:
    """Replace each of ``tensors`` in place by its sum over the ranks (its mean with ``average``), in one
    all-reduce of their concatenation (one message per step however many parameters there are)."""
    tensors = list(tensors)
    if not tensors:
        return
    flat = _flat(tensors, ranks)
    dist.all_reduce(flat)
    if average:
        flat /= ranks.world_size
    _copy_back(flat, tensors)


def sum_values(values: Tensor, ranks: Ranks) -> Tensor:
    """The sum over the ranks of a 1-D tensor of values (a new tensor on the values' device)."""
    out = values.detach().to(ranks.device).clone()
    dist.all_reduce(out)
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
