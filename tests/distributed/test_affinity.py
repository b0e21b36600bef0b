"""Each CPU rank on CPUs of its own (pinnkit.distributed.affinity): the blocks, the launcher's count of ranks per
machine, and the binding itself in a child process (it changes the process's affinity, so never in this one)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import pinnkit as pk
from pinnkit.distributed.affinity import local_world_size, own_cpus

needs_affinity = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs os.sched_setaffinity")


def test_each_local_rank_takes_an_equal_block_and_the_remainder_is_unused():
    cpus = [5, 0, 3, 1, 2, 4, 6]  # as os.sched_getaffinity may give them; sorted first
    assert [own_cpus(r, 3, cpus) for r in range(3)] == [[0, 1], [2, 3], [4, 5]]
    assert own_cpus(0, 1, cpus) == list(range(7))
    with pytest.raises(ValueError, match="only 2 CPUs"):
        own_cpus(0, 3, [0, 1])
    with pytest.raises(ValueError, match="local rank 2 is not one of 2"):
        own_cpus(2, 2, [0, 1, 2, 3])


def test_ranks_per_machine_come_from_the_launcher(monkeypatch):
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    monkeypatch.delenv("SLURM_NTASKS_PER_NODE", raising=False)
    with pytest.raises(ValueError, match="LOCAL_WORLD_SIZE"):
        local_world_size()
    monkeypatch.setenv("SLURM_NTASKS_PER_NODE", "4(x2)")
    assert local_world_size() == 4
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "3")
    assert local_world_size() == 3
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "three")
    with pytest.raises(ValueError, match="LOCAL_WORLD_SIZE='three' is not a number"):
        local_world_size()


def test_cpu_affinity_is_checked():
    with pytest.raises(ValueError, match="cpu_affinity must be True or False"):
        pk.distributed.DataParallel(cpu_affinity="yes")
    assert pk.distributed.DataParallel().cpu_affinity is False


CHILD = """
import json, os, threading, time
from pinnkit.distributed.affinity import bind_to_own_cpus
stop = threading.Event()
early = threading.Thread(target=stop.wait)  # a thread started before the binding, like the process group's
early.start()
mine = bind_to_own_cpus({rank}, {ranks})
allowed = {{int(t): sorted(os.sched_getaffinity(int(t))) for t in os.listdir("/proc/self/task")}}
stop.set()
print(json.dumps({{"mine": mine, "allowed": list(allowed.values())}}))
"""


@needs_affinity
def test_binding_restricts_every_thread_of_the_process():
    cpus = sorted(os.sched_getaffinity(0))
    ranks = 2 if len(cpus) >= 2 else 1
    rank = ranks - 1
    done = subprocess.run([sys.executable, "-c", CHILD.format(rank=rank, ranks=ranks)], capture_output=True,
                          text=True, timeout=120, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["mine"] == own_cpus(rank, ranks, cpus)
    assert len(out["allowed"]) >= 2  # the main thread and the early one
    assert all(allowed == out["mine"] for allowed in out["allowed"])
