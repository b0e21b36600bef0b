"""What the training loop does differently on several ranks: gradients reduced over the ranks, and checkpoints
resumed only where their point counts mean the same (see :mod:`pinnkit.distributed.ranks`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from ..errors import CheckpointError
from .collectives import sum_tensors
from .ranks import Ranks
from .shard import whole_values


def reduce_gradients(params: Sequence[Tensor], ranks: Ranks, sharded: bool) -> None:
    """Sum the ``.grad`` of ``params`` over the ranks (``sharded``: each rank holds its share of the gradient) or
    average them (each rank evaluated the whole objective). A parameter without a gradient takes part as zeros,
    so that every rank sends the same tensors."""
    sum_tensors(_gradients(params), ranks, average=not sharded)


def reduce_gradients_and_values(params: Sequence[Tensor], terms: dict[str, Tensor], ranks: Ranks) -> dict[str, Tensor]:
    """The sharded case of :func:`reduce_gradients` with the terms of a shares evaluation summed in the same
    all-reduce (:func:`~pinnkit.distributed.shard.whole_values`): their global values, detached."""
    return {k: v.detach() for k, v in whole_values(terms, ranks, also=_gradients(params)).items()}


def _gradients(params: Sequence[Tensor]) -> list[Tensor]:
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    return [p.grad for p in params]


def reduced(grads: Sequence[Tensor], ranks: Ranks, sharded: bool) -> list[Tensor]:
    """Copies of per-loss gradients (e.g. ``(m, *p.shape)`` per parameter) summed (``sharded``) or averaged over
    the ranks: what the multi-loss optimizers combine."""
    out = [g.clone() for g in grads]
    sum_tensors(out, ranks, average=not sharded)
    return out


def ranks_state(ranks: Ranks | None) -> dict[str, Any]:
    """What a checkpoint records of the ranks that wrote it."""
    return {"world_size": 1 if ranks is None else ranks.world_size,
            "scaling": "strong" if ranks is None else ranks.scaling}


def check_resume(saved: Mapping[str, Any] | None, ranks: Ranks | None, source: str) -> None:
    """Refuse a weak-scaling checkpoint for another number of ranks (its point counts are per rank); a strong
    scaling state is the same for any number of ranks, so it resumes on any."""
    now, saved = ranks_state(ranks), dict(saved or ranks_state(None))
    weak = "weak" in (saved["scaling"], now["scaling"]) and now["world_size"] * saved["world_size"] > 1
    if weak and saved != now:
        raise CheckpointError(f"{source} was written by {saved['world_size']} rank(s) with {saved['scaling']} "
                              f"scaling; this run has {now['world_size']} with {now['scaling']} scaling. Weak scaling "
                              "counts points per rank: resume it with the same number of ranks (strong scaling "
                              "resumes on any number)")
