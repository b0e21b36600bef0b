"""Data-parallel training: what a trainer is asked for (:class:`DataParallel`) and what it runs on (:class:`Ranks`).

pinnkit trains one model on ``W`` processes (ranks) the way one process would train it on the same points:

* every rank holds the same **global** point set (the same seed draws the same points on every rank; sampling
  costs O(N d), little next to a residual) and evaluates the residuals only on **its share** of the rows, a
  contiguous block (:mod:`pinnkit.distributed.shard`);
* a loss term ``L = (1/N) sum_i r_i^2`` is the all-reduced sum of the ranks' partial sums divided by the
  all-reduced count, so its value is the global one on every rank, and its gradient on rank ``q`` is the share
  ``(1/N) sum_{i in q} d(r_i^2)``; the loop sums the shares over the ranks
  before the optimizer sees them, so every rank takes the same step as one process would;
* whatever looks at the residuals (R3's threshold, RAD's density, causal weights, residual-based attention)
  sees the residuals of all ranks gathered in the global order, so it draws and weighs as one process does.

**Scaling.** ``scaling="strong"``: the sampler's point count is global, split over the ranks. ``"weak"``: it is
per rank, so the global set has ``W`` times as many collocation points (the conditions' points stay as given and
are split). **Launch** under ``torchrun --nproc_per_node=W script.py`` or SLURM's ``srun``: a trainer built with
the default ``distributed=None`` starts the process group from the environment (``env://``; gloo on the CPU,
NCCL on CUDA, one GPU per local rank).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..checks import check_positive_float

SCALINGS = ("strong", "weak")
BACKENDS = ("gloo", "nccl")


@dataclass(frozen=True)
class DataParallel:
    """Train data-parallel over the ranks of a ``torch.distributed`` process group (module docstring).

    Parameters
    ----------
    scaling : str
        ``"strong"`` (the sampler's count of points is the global count, split over the ranks) or ``"weak"``
        (the count is per rank).
    backend : str, optional
        ``"gloo"`` or ``"nccl"`` for a process group this trainer starts; default gloo on the CPU, NCCL on CUDA.
        A process group the caller started is used as it is.
    timeout : float
        Seconds a collective waits for the other ranks before the run fails (a rank that died).
    """

    scaling: str = "strong"
    backend: str | None = None
    timeout: float = 300.0

    def __post_init__(self):
        if self.scaling not in SCALINGS:
            raise ValueError(f"DataParallel: scaling must be one of {SCALINGS}; got {self.scaling!r}")
        if self.backend is not None and self.backend not in BACKENDS:
            raise ValueError(f"DataParallel: backend must be one of {BACKENDS} or None; got {self.backend!r}")
        check_positive_float(self.timeout, "DataParallel: timeout")


@dataclass(frozen=True)
class Ranks:
    """The process group a trainer runs on: this process's ``rank`` of ``world_size``, the ``device`` its tensors
    live on, and the ``scaling`` of its point counts."""

    rank: int
    world_size: int
    device: torch.device
    scaling: str = "strong"

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the one that prints and writes files."""
        return self.rank == 0


def launched() -> bool:
    """Whether this process was started by a launcher for more than one process (torchrun or SLURM set
    ``WORLD_SIZE``, ``RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``)."""
    env = os.environ
    return int(env.get("WORLD_SIZE", "1")) > 1 and all(k in env for k in ("RANK", "MASTER_ADDR", "MASTER_PORT"))


def local_device(device: torch.device) -> torch.device:
    """``device`` for this rank: CUDA without an index becomes ``cuda:LOCAL_RANK`` (one GPU per local rank)."""
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def start(distributed: DataParallel | bool | None, device: torch.device) -> Ranks | None:
    """The :class:`Ranks` a trainer asked for ``distributed`` runs on, starting the process group if needed.

    ``None`` (the default): data-parallel with strong scaling when a process group is running or this process was
    launched for several (:func:`launched`), else a single process (None is returned). ``False``: a single
    process, even under a launcher. A :class:`DataParallel`: data-parallel, starting the group from the
    environment when none is running (an error if there is neither).
    """
    if distributed is False:
        return None
    if distributed is None or distributed is True:
        if not (dist.is_available() and (dist.is_initialized() or launched())):
            if distributed is True:
                raise ValueError("distributed=True needs a torch.distributed process group: launch with torchrun "
                                 "--nproc_per_node=N (or srun), or start one with torch.distributed."
                                 "init_process_group")
            return None
        distributed = DataParallel()
    if not isinstance(distributed, DataParallel):
        raise ValueError(f"distributed must be None, True, False or a pinnkit.distributed.DataParallel; got "
                         f"{type(distributed).__name__}")
    if not dist.is_available():
        raise ValueError("distributed: this torch build has no torch.distributed")
    device = local_device(device)
    if not dist.is_initialized():
        if not launched():
            raise ValueError("distributed: no process group is running and the environment names none (WORLD_SIZE, "
                             "RANK, MASTER_ADDR, MASTER_PORT): launch with torchrun --nproc_per_node=N or srun")
        backend = distributed.backend or ("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend, init_method="env://",
                                timeout=datetime.timedelta(seconds=distributed.timeout))
    backend = dist.get_backend()
    if backend == "nccl" and device.type != "cuda":
        raise ValueError(f"distributed: the process group uses NCCL, which needs device='cuda'; got {device}")
    if backend == "gloo" and device.type not in ("cpu", "cuda"):
        raise ValueError(f"distributed: the gloo process group cannot reduce tensors on {device}")
    return Ranks(dist.get_rank(), dist.get_world_size(), device, distributed.scaling)


def is_main() -> bool:
    """Whether this process should print and write files: rank 0 of a running process group, or any process
    outside one (for scripts: ``if pk.distributed.is_main(): plot(...)``)."""
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0
