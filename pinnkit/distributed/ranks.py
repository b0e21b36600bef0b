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
are split). **Operator training** splits the points too (``operator_split="points"``): each rank evaluates every
function of the batch at its block of the points, so the trunk network, whose derivatives dominate a
physics-informed DeepONet step, runs on ``1/W`` of the points; ``"functions"`` splits the batch of functions
instead (each rank then runs the trunk on all the points; weak scaling: ``batch_size`` functions per rank).

**Launch** under ``torchrun --nproc_per_node=W script.py`` or SLURM's ``srun``: a trainer built with the default
``distributed=None`` starts the process group from the environment (``env://``; gloo on the CPU, NCCL on CUDA,
one GPU per local rank). A group the trainer started it also destroys, when the interpreter exits
(:func:`destroy_started_group`); a group the caller started is the caller's to destroy.
"""

from __future__ import annotations

import atexit
import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

# torch.distributed.nn.functional's collectives take ``group=group.WORLD`` as a default argument, evaluated when
# the module is imported. Imported after a group starts (torch.optim's optimizers import it, through
# torch._dynamo), it would keep that group alive past destroy_process_group, its threads running into the
# interpreter's finalization; imported with pinnkit, before any group, it holds none.
if dist.is_available():
    import torch.distributed.nn.functional  # noqa: F401

from ..checks import check_positive_float
from .affinity import bind_to_own_cpus

SCALINGS = ("strong", "weak")
BACKENDS = ("gloo", "nccl")
OPERATOR_SPLITS = ("points", "functions")


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
    operator_split : str
        What an :class:`~pinnkit.OperatorTrainer`'s ranks divide (module docstring): ``"points"`` (the default;
        every rank takes all functions of the batch at its block of the points) or ``"functions"`` (its block of
        the batch of functions at all the points).
    cpu_affinity : bool
        On the CPU, restrict each rank to its own block of the machine's CPUs (:mod:`pinnkit.distributed.affinity`;
        the local rank and the ranks per machine from the launcher, or, for a group the caller started without
        one, the rank and world size, as on one machine). Off by default: it changes the process's CPU affinity.
    """

    scaling: str = "strong"
    backend: str | None = None
    timeout: float = 300.0
    operator_split: str = "points"
    cpu_affinity: bool = False

    def __post_init__(self):
        if self.scaling not in SCALINGS:
            raise ValueError(f"DataParallel: scaling must be one of {SCALINGS}; got {self.scaling!r}")
        if self.operator_split not in OPERATOR_SPLITS:
            raise ValueError(f"DataParallel: operator_split must be one of {OPERATOR_SPLITS}; got "
                             f"{self.operator_split!r}")
        if not isinstance(self.cpu_affinity, bool):
            raise ValueError(f"DataParallel: cpu_affinity must be True or False; got {self.cpu_affinity!r}")
        if self.backend is not None and self.backend not in BACKENDS:
            raise ValueError(f"DataParallel: backend must be one of {BACKENDS} or None; got {self.backend!r}")
        check_positive_float(self.timeout, "DataParallel: timeout")


@dataclass(frozen=True)
class Ranks:
    """The process group a trainer runs on: this process's ``rank`` of ``world_size``, the ``device`` its tensors
    live on, the ``scaling`` of its point counts and what operator training splits (``operator_split``)."""

    rank: int
    world_size: int
    device: torch.device
    scaling: str = "strong"
    operator_split: str = "points"

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the one that prints and writes files."""
        return self.rank == 0


@dataclass(frozen=True)
class Launch:
    """Where a launcher put this process: ``rank`` of ``world_size``, and ``local_rank`` on its machine."""

    rank: int
    world_size: int
    local_rank: int


def launch_environment() -> Launch | None:
    """This process's place among the processes a launcher started, or None when it started on its own.

    torchrun (and ``torch.distributed.launch``) sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; SLURM's
    ``srun`` sets ``SLURM_PROCID``, ``SLURM_NTASKS`` and ``SLURM_LOCALID``. Either way the rendezvous is
    ``MASTER_ADDR:MASTER_PORT`` (``env://``), which the job script exports under SLURM. One process in all counts
    as on its own.
    """
    env = os.environ
    if not all(k in env for k in ("MASTER_ADDR", "MASTER_PORT")):
        return None
    if "RANK" in env and "WORLD_SIZE" in env:
        names = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
    elif "SLURM_PROCID" in env and "SLURM_NTASKS" in env:
        names = ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID")
    else:
        return None
    try:
        rank, world_size = int(env[names[0]]), int(env[names[1]])
        local_rank = int(env.get(names[2], "0"))
    except ValueError as error:
        raise ValueError(f"distributed: the launcher's environment {names} must hold integers: {error}") from None
    if world_size <= 1:
        return None
    if not 0 <= rank < world_size:
        raise ValueError(f"distributed: {names[0]}={rank} is not a rank of {names[1]}={world_size}")
    return Launch(rank, world_size, local_rank)


def launched() -> bool:
    """Whether a launcher started this process as one of several (:func:`launch_environment`)."""
    return launch_environment() is not None


def local_device(device: torch.device) -> torch.device:
    """``device`` for this rank: CUDA without an index becomes ``cuda:LOCAL_RANK`` (one GPU per local rank)."""
    if device.type == "cuda" and device.index is None:
        launch = launch_environment()
        return torch.device("cuda", 0 if launch is None else launch.local_rank)
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
            raise ValueError("distributed: no process group is running and the environment names none (RANK and "
                             "WORLD_SIZE, or SLURM_PROCID and SLURM_NTASKS, with MASTER_ADDR and MASTER_PORT): "
                             "launch with torchrun --nproc_per_node=N or srun")
        backend = distributed.backend or ("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        launch = launch_environment()
        dist.init_process_group(backend, init_method="env://", rank=launch.rank, world_size=launch.world_size,
                                timeout=datetime.timedelta(seconds=distributed.timeout))
        atexit.unregister(destroy_started_group)  # once, however many groups this process started in turn
        atexit.register(destroy_started_group)
    backend = dist.get_backend()
    if backend == "nccl" and device.type != "cuda":
        raise ValueError(f"distributed: the process group uses NCCL, which needs device='cuda'; got {device}")
    if backend == "gloo" and device.type not in ("cpu", "cuda"):
        raise ValueError(f"distributed: the gloo process group cannot reduce tensors on {device}")
    if distributed.cpu_affinity and device.type == "cpu":
        launch = launch_environment()
        bind_to_own_cpus(launch.local_rank if launch is not None else dist.get_rank(),
                         None if launch is not None else dist.get_world_size())
    return Ranks(dist.get_rank(), dist.get_world_size(), device, distributed.scaling, distributed.operator_split)


def destroy_started_group() -> None:
    """Destroy the running process group: registered with :mod:`atexit` by :func:`start` for a group it started,
    so that the group's threads (gloo's workers, the rendezvous store's server on rank 0) stop while the
    interpreter is whole rather than meet its finalization, which can abort the process with SIGABRT. Nothing
    is sent to the other ranks (one of them may have ended already)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def is_main() -> bool:
    """Whether this process should print and write files: rank 0 of a running process group (or, before the
    group starts, of the launcher's environment), or a process on its own (for scripts:
    ``if pk.distributed.is_main(): plot(...)``)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    launch = launch_environment()
    return launch is None or launch.rank == 0
