"""Timing of a repeated call for the benchmarks, synchronising with the GPU around each timed round."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import torch


def seconds_per_call(fn: Callable[[], object], calls: int, repeats: int, device: torch.device | str, *,
                     warmup: int = 3, summary: Callable[[Sequence[float]], float] = statistics.median) -> float:
    """Seconds per call of ``fn``: ``warmup`` untimed calls, then ``repeats`` rounds of ``calls`` calls, each
    round's mean reduced by ``summary`` (the median; ``min`` for the least disturbed round on a shared machine)."""
    device = torch.device(device)
    for _ in range(warmup):
        fn()
    rounds = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        rounds.append((time.perf_counter() - start) / calls)
    return summary(rounds)
