"""Data-parallel training on several processes (``torchrun``, SLURM's ``srun``): see
:mod:`pinnkit.distributed.ranks` for how the work is split and why every rank takes the step one process would.

* :class:`DataParallel`: what a trainer is asked for (``Trainer(..., distributed=DataParallel(scaling="weak"))``);
  the default ``distributed=None`` starts from the launcher's environment.
* :class:`Ranks`, :func:`start`, :func:`is_main`: the process group a trainer runs on, and whether this process
  is the one that prints and writes files.
* :mod:`~pinnkit.distributed.shard` and :mod:`~pinnkit.distributed.collectives`: each rank's rows, global loss
  terms from the ranks' partial sums, and the collectives.
* :mod:`~pinnkit.distributed.affinity`: each CPU rank on CPUs of its own (``DataParallel(cpu_affinity=True)``).
"""

from .collectives import all_reduce_sum, barrier, broadcast_tensors, gather_rows, sum_tensors, sum_values
from .ranks import DataParallel, Ranks, is_main, launched, start
from .shard import block, block_sizes, global_means, shard_batch, square_sum

__all__ = ["DataParallel", "Ranks", "all_reduce_sum", "barrier", "block", "block_sizes", "broadcast_tensors",
           "gather_rows", "global_means", "is_main", "launched", "shard_batch", "square_sum", "start", "sum_tensors",
           "sum_values"]
