"""Bounded rejection sampling and distinct points after rounding, for :class:`~pinnkit.geometry.Geometry`.

Domains without an interior map, and boundary selections, are sampled by rejection: candidates are drawn and the
ones inside kept. The budget below bounds the rounds and the candidates per round, and a domain or selection that
accepts nothing is found by a fixed quasi-random probe of a few MB and refused (:func:`probe_acceptance`) instead of
asking for ever more candidates. Points cast to a narrower dtype may round onto each other; :func:`first_rows`
finds repeats, :func:`room` bounds how many distinct points a box can hold in a dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np
import torch
from torch import Tensor

from .unit_samples import ORDERED_METHODS, make_rng, unit_samples

Mask = Tensor


def top_up_method(method: str) -> str:
    """The method for points that replace rows merged by rounding: a sequence method continues, a grid-like
    (ordered) one would repeat its points, so pseudo-random points are drawn instead."""
    return "random" if method in ORDERED_METHODS else method


def room(bbox: Tensor, dtype: torch.dtype, cap: int = 2**62) -> int:
    """How many points with coordinates of ``dtype`` the box ``bbox`` (2, d) holds: the product over the axes of
    the numbers of ``dtype`` between the rounded ends (an upper bound for any set of distinct points in it),
    or ``cap`` where it is larger (the exact product has about ``32 d`` bits: seconds to form at d = 1e5)."""
    ints = {2: torch.int16, 4: torch.int32}[torch.finfo(dtype).bits // 8]
    ends = bbox.to(dtype).view(ints).to(torch.int64)  # sign and magnitude: the order of the numbers, -0 = +0
    sign = torch.iinfo(ints).min
    ordinal = torch.where(ends < 0, -(ends - sign), ends)
    counts = ordinal[1] - ordinal[0] + 1
    if float(torch.log2(counts.double()).sum()) > math.log2(cap) + 1:
        return cap
    return min(math.prod(int(k) for k in counts.tolist()), cap)


def first_rows(y: Tensor) -> Mask:
    """``(N,)`` bool: is each row of ``y`` the first occurrence of its values? (``-0.0`` equals ``0.0``.)

    Rows are hashed to one integer (exact for equal rows), so the usual case, all hashes distinct, costs one
    sort of N integers; rows whose hash repeats are then compared exactly.
    """
    bits = (y.detach().cpu().double() + 0.0).numpy().view(np.uint64)
    # Horner's key * C + bits[:, j] over the columns, modulo 2^64, as one product with the powers C^(d-1-j)
    # (uint64 arithmetic wraps), so the cost is O(N d) without a Python loop over the d columns
    d = bits.shape[1]
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(max(d - 1, 0), 0x9E3779B97F4A7C15, dtype=np.uint64))
        powers = np.concatenate([np.ones(min(d, 1), dtype=np.uint64), powers])[::-1]
        key = (bits * powers).sum(axis=1, dtype=np.uint64)
    first = np.zeros(len(key), dtype=bool)
    _, index = np.unique(key, return_index=True)
    first[index] = True
    if first.all():
        return torch.from_numpy(first)
    _, index = np.unique(bits, axis=0, return_index=True)
    first[:] = False
    first[index] = True
    return torch.from_numpy(first)


def largest_remainder(n: int, weights: list[float]) -> list[int]:
    """Split ``n`` into integer parts proportional to ``weights`` (Hamilton's method); sums to ``n``."""
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        raise ValueError("cannot distribute points over pieces of zero total measure")
    quota = n * w / w.sum()
    counts = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - counts), kind="stable")
    counts[order[: n - int(counts.sum())]] += 1
    return counts.tolist()


# Bounds of rejection sampling (interior points of domains without an interior map, and boundary selections):
# at most ROUNDS rounds of at most max(ROUND_CANDIDATES, CANDIDATES_PER_POINT n) candidates each. A domain
# whose 4096-point acceptance estimate is below MIN_ESTIMATE, or a selection that keeps fewer than n /
# MIN_ESTIMATE_COUNT of its first candidates, is probed with PROBE points in chunks of PROBE_CHUNK (a few MB)
# and refused when none is accepted.
ROUNDS: Final = 10
ROUND_CANDIDATES: Final = 2**22
CANDIDATES_PER_POINT: Final = 32
PROBE: Final = 2**20
PROBE_CHUNK: Final = 2**16
MIN_ESTIMATE: Final = 1e-4
MIN_ESTIMATE_COUNT: Final = 64


def check_budget(m: int, budget: int, n: int, accept: float, what: str) -> None:
    if m > budget:
        raise ValueError(f"{n} {what} would need about {m} candidates per round at the acceptance rate seen "
                         f"({accept:.3g}), more than the budget of {budget}: the domain or selection is too thin "
                         "for rejection sampling; ask for fewer points, or use a tighter domain")


def probe_acceptance(accepts: Callable[[Tensor], Mask], dim: int, what: str, kind: str) -> float:
    """Fraction of ``PROBE`` scrambled Sobol' parameters (fixed seed, chunks of ``PROBE_CHUNK``: a few MB)
    that ``accepts``; a ``ValueError`` naming ``what`` where none is accepted."""
    engine_rng, found = make_rng(0), 0
    u = unit_samples(PROBE, dim, "sobol", engine_rng)
    for start in range(0, PROBE, PROBE_CHUNK):
        found += int(accepts(torch.from_numpy(u[start:start + PROBE_CHUNK])).sum())
    if found == 0:
        raise ValueError(f"{what} seems empty or too thin to sample: none of {PROBE} candidate points "
                         f"(a quasi-random sample of its {'bounding box' if kind == 'interior' else 'pieces'}) "
                         f"lies in its {kind}; check the geometry or the boundary selection")
    return found / PROBE
