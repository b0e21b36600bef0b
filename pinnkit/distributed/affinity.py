"""Each CPU rank on CPUs of its own: ``DataParallel(cpu_affinity=True)``.

Left to the operating system, the ranks on one machine move between its CPUs: a rank that waits in a collective
gives up its CPU, and when it computes again it may share one with another rank, or find its caches cold, so
each rank computes slower than one process alone on the same points would (``benchmarks/distributed_scaling.py
--cpu-affinity`` measures it; the README has the numbers). Restricting local rank ``r`` of ``L`` on a
machine to the ``r``-th of ``L`` equal blocks of the CPUs the process may use (``os.sched_getaffinity``) keeps
each on its own. SLURM's ``srun --cpu-bind=cores`` does the same for its tasks; this is for ``torchrun`` and
other launchers that do not.

This changes the process's CPU affinity (Linux ``sched_setaffinity``) for all its threads, which is why it is
asked for, never done by default.
"""

from __future__ import annotations

import os


def local_world_size() -> int:
    """The number of ranks on this machine, from the launcher's environment (torchrun's ``LOCAL_WORLD_SIZE``,
    SLURM's ``SLURM_NTASKS_PER_NODE``)."""
    for name in ("LOCAL_WORLD_SIZE", "SLURM_NTASKS_PER_NODE"):
        value = os.environ.get(name)
        if value is not None:
            try:
                return int(value.split("(")[0].split(",")[0])  # SLURM may write "4(x2)" or "4,2"
            except ValueError:
                raise ValueError(f"DataParallel(cpu_affinity=True): {name}={value!r} is not a number of "
                                 "ranks") from None
    raise ValueError("DataParallel(cpu_affinity=True) needs the number of ranks on this machine: launch with "
                     "torchrun (it sets LOCAL_WORLD_SIZE) or set LOCAL_WORLD_SIZE")


def own_cpus(local_rank: int, ranks_here: int, cpus: list[int]) -> list[int]:
    """The ``local_rank``-th of ``ranks_here`` equal contiguous blocks of ``cpus`` (sorted; the remainder of an
    uneven division is left unused, so that every rank gets as many)."""
    if not 0 <= local_rank < ranks_here:
        raise ValueError(f"DataParallel(cpu_affinity=True): local rank {local_rank} is not one of {ranks_here} "
                         "ranks on this machine")
    per_rank = len(cpus) // ranks_here
    if per_rank == 0:
        raise ValueError(f"DataParallel(cpu_affinity=True): {ranks_here} ranks on this machine but only "
                         f"{len(cpus)} CPUs for them; use fewer ranks or cpu_affinity=False")
    cpus = sorted(cpus)
    return cpus[local_rank * per_rank:(local_rank + 1) * per_rank]


def bind_to_own_cpus(local_rank: int, ranks_here: int | None = None) -> list[int]:
    """Restrict every thread of this process to :func:`own_cpus` of the CPUs it may use now; returns them."""
    if not hasattr(os, "sched_setaffinity"):
        raise ValueError("DataParallel(cpu_affinity=True) needs os.sched_setaffinity (Linux); this system has none")
    ranks_here = local_world_size() if ranks_here is None else ranks_here
    mine = own_cpus(local_rank, ranks_here, list(os.sched_getaffinity(0)))
    threads = [int(t) for t in os.listdir("/proc/self/task")] if os.path.isdir("/proc/self/task") else [0]
    for thread in threads:  # threads started earlier (the process group's) keep their mask otherwise
        try:
            os.sched_setaffinity(thread, mine)
        except (ProcessLookupError, PermissionError):  # a thread that ended meanwhile
            pass
    return mine
