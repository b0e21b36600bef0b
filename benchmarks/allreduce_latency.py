"""Latency of one sum over two gloo ranks: pinnkit's ``all_reduce_sum`` (recursive doubling, for two ranks one
``isend`` / ``irecv`` exchange) against ``torch.distributed.all_reduce``, side by side in the same two processes,
for the message sizes of a training step's gradients.

Each size is timed in ``--rounds`` alternating rounds of ``--calls`` calls of each method (after a warm-up), one
thread per rank; the report gives the median milliseconds per call of each and their ratio.

``python benchmarks/allreduce_latency.py --json allreduce.json`` (about half a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from _examples import write_report  # benchmarks/ is on sys.path when a script here runs

from pinnkit.distributed import collectives
from pinnkit.distributed.ranks import Ranks


def _rank(rank: int, port: int, args: dict[str, Any], out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    ranks = Ranks(rank, 2, torch.device("cpu"))
    methods = {"pinnkit": lambda x: collectives.all_reduce_sum(x, ranks), "torch": dist.all_reduce}
    rows = []
    for n in args["sizes"]:
        x = torch.randn(n, dtype=getattr(torch, args["dtype"]))
        for method in methods.values():
            for _ in range(20):
                method(x)
        times: dict[str, list[float]] = {name: [] for name in methods}
        for _ in range(args["rounds"]):
            for name, method in methods.items():
                dist.barrier()
                start = time.perf_counter()
                for _ in range(args["calls"]):
                    method(x)
                times[name].append((time.perf_counter() - start) / args["calls"])
        med = {name: float(np.median(t)) for name, t in times.items()}
        rows.append({"numbers": n, "bytes": x.numel() * x.element_size(), "pinnkit_ms": 1e3 * med["pinnkit"],
                     "torch_ms": 1e3 * med["torch"], "pinnkit_over_torch": med["pinnkit"] / med["torch"]})
    if rank == 0:
        Path(out).write_text(json.dumps(rows))
    dist.barrier()
    dist.destroy_process_group()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", nargs="+", type=int, default=[1, 1000, 20000, 100000, 1000000])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--calls", type=int, default=50)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    if not dist.is_available():
        p.error("torch.distributed is not available in this build of torch")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "rows.json")
        mp.spawn(_rank, args=(port, vars(args), out), nprocs=2, join=True)
        rows = json.loads(Path(out).read_text())
    for row in rows:
        print(f"{row['numbers']:>8d} numbers: pinnkit {row['pinnkit_ms']:.3f} ms, torch.distributed.all_reduce "
              f"{row['torch_ms']:.3f} ms, ratio {row['pinnkit_over_torch']:.2f}", flush=True)
    report = {"torch": torch.__version__, "python": platform.python_version(), "cpu_count": os.cpu_count(),
              "platform": platform.platform(), "ranks": 2, "threads_per_rank": 1, "backend": "gloo",
              "dtype": args.dtype, "rounds": args.rounds, "calls": args.calls, "rows": rows,
              "command": " ".join(["python", *sys.argv])}
    return write_report(args.json, report)


if __name__ == "__main__":
    main()
