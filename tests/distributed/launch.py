"""Run a function on ``world_size`` ranks in fresh processes (``torch.multiprocessing.spawn``; gloo, or NCCL with
one GPU per rank) and collect what each rank returns: the multi-process harness of tests/distributed."""

from __future__ import annotations

import datetime
import os
import socket
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import pinnkit.distributed  # noqa: F401  (before any group starts: see pinnkit/distributed/ranks.py's imports)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, fn, args: tuple, out: str, backend: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world_size), RANK=str(rank),
                      LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world_size))  # as torchrun sets them
    torch.set_num_threads(1)
    if backend == "nccl":
        torch.cuda.set_device(rank)
    dist.init_process_group(backend, rank=rank, world_size=world_size, timeout=datetime.timedelta(seconds=60))
    # A rank whose fn raises leaves its group as it is: torch.multiprocessing takes its message before the
    # process exits, and only that exit tells the other ranks. Destroying the group first would let another rank
    # fail on the closed connection and be reported before it, without the message.
    result = fn(*args)
    torch.save(result, Path(out) / f"rank{rank}.pt")
    # Tear down together: a rank that destroys its group (rank 0 also ends the rendezvous store) while the other
    # still talks to it can abort the other in gloo's teardown.
    dist.barrier()
    dist.destroy_process_group()


def run_ranks(fn, *args, world_size: int = 2, backend: str = "gloo") -> list:
    """``fn(*args)`` on every rank (``fn`` importable by name); the list of what each rank returned."""
    with tempfile.TemporaryDirectory() as out:
        mp.spawn(_worker, args=(world_size, free_port(), fn, args, out, backend), nprocs=world_size, join=True)
        return [torch.load(Path(out) / f"rank{r}.pt", weights_only=False) for r in range(world_size)]
