"""Point sets in the open unit cube (0, 1)^d, the raw material of every geometry sampler.

Every geometry maps points of the unit cube onto its interior or onto patches of its boundary, so the
choice of method (grid, pseudo-random, Latin hypercube, low-discrepancy) is made here once and applies
to every domain. scipy.stats.qmc does the low-discrepancy work.

Methods
-------
``"uniform"``     cell-centred tensor grid, ``(i + 1/2) / k`` on each axis, with the number of cells per axis
                  proportional to the side lengths given by ``aspect``; when the grid holds more than the
                  requested number of points, evenly spaced points of the grid (in its ordering) are dropped.
``"random"``      independent uniform points (numpy ``Generator.random``).
``"lhs"``         Latin hypercube sampling.
``"sobol"``       scrambled Sobol' sequence (scipy's linear matrix scrambling plus digital shift, seeded).
``"halton"``      scrambled Halton sequence (scipy's digit permutations, seeded).
``"hammersley"``  Hammersley set: first coordinate ``(i + 1/2) / m``, the others the unscrambled Halton
                  sequence from index 1 (so no coordinate is 0).

"Sequence" methods (random, lhs, sobol, halton) are extended by taking a prefix; "ordered" methods
(uniform, hammersley) are sorted along one axis, so a subset is taken by even thinning instead.
"""

from __future__ import annotations

import math
import warnings
from typing import Final

import numpy as np
import torch
from scipy.stats import qmc

from ..checks import check_choice, check_int, check_seed

#: The sampling methods of every geometry's ``sample_interior`` and ``sample_boundary`` (see
#: :mod:`pinnkit.geometry.geometry`).
METHODS: Final = ("uniform", "random", "lhs", "sobol", "halton", "hammersley")
ORDERED_METHODS: Final = frozenset({"uniform", "hammersley"})

Seed = int | np.random.Generator | torch.Generator | None

#: From this dimension on, balls and boxes draw ``"random"`` samples directly in O(n d) (Gaussian directions,
#: faces chosen by measure) instead of mapping unit-cube points per coordinate or per face; below it the unit-cube
#: path is kept, so seeded samples of the usual low-dimensional domains are unchanged. Both are exactly uniform.
DIRECT_RANDOM_DIM: Final = 16


#: The most dimensions each low-discrepancy method draws in: Sobol' has scipy's direction numbers for 21201; the
#: scrambled Halton sequence keeps a digit permutation of every prime base up to the d-th prime (about a GB at
#: d = 3000), and the unscrambled one behind Hammersley costs seconds per call beyond scipy's Sobol' limit. The
#: other methods ("random", "lhs", "uniform") draw in any dimension in O(m d).
MAX_DIMS: Final = {"sobol": int(qmc.Sobol.MAXDIM), "halton": 1000, "hammersley": int(qmc.Sobol.MAXDIM)}


def check_method_dim(method: str, d: int) -> None:
    """A ``ValueError`` naming ``method``, the dimension ``d`` and the limit where ``method`` cannot draw points
    of ``(0, 1)^d`` (:data:`MAX_DIMS`)."""
    limit = MAX_DIMS.get(method)
    if limit is not None and d > limit:
        raise ValueError(f"method={method!r} draws points in at most {limit} dimensions; this sample needs {d} "
                         "(a domain of that dimension, or of one more for its boundary): use method='random' or "
                         "'lhs' in high dimensions")


def method_for_dim(method: str, d: int) -> str:
    """``method``, or ``"random"`` where ``method`` cannot draw in ``d`` dimensions (:data:`MAX_DIMS`): for
    fixed-seed probes that must work at any dimension."""
    limit = MAX_DIMS.get(method)
    return "random" if limit is not None and d > limit else method


def check_method(method: str) -> str:
    """``method`` as one of :data:`METHODS` (see :func:`pinnkit.checks.check_choice`), else a ``ValueError``
    listing the valid ones."""
    return check_choice(method, "method", METHODS)


#: The most points (or other counts) one call may ask for: 2^30 points of a 2-D domain are 16 GiB in float64, so a
#: larger count is a typo or needs chunking, and is refused before anything is allocated.
MAX_COUNT = 2**30


def check_count(n: int, name: str = "n", *, minimum: int = 1) -> int:
    """``n`` as a Python ``int`` in ``[minimum, MAX_COUNT]`` (a number of points; see
    :func:`pinnkit.checks.check_int`), else a ``ValueError`` naming it."""
    return check_int(n, name, minimum=minimum, maximum=MAX_COUNT)


def make_rng(seed: Seed) -> np.random.Generator:
    """A numpy ``Generator`` from an int seed, a numpy or torch generator, or ``None`` (fresh entropy).

    A torch generator is consumed once, so successive calls with the same torch generator differ, as they do
    for torch's own sampling functions.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, torch.Generator):
        return np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=seed).item()))
    if seed is None:
        return np.random.default_rng()
    try:
        return np.random.default_rng(check_seed(seed))
    except ValueError:
        raise ValueError(f"seed must be a non-negative integer, a numpy or torch Generator, or None; got "
                         f"{seed!r}") from None


def grid_shape(m: int, aspect: np.ndarray) -> list[int]:
    """Cells per axis of the smallest grid with at least ``m`` cells and cells as close to cubes as possible.

    ``aspect`` holds the side lengths (d,); the count on axis i is about ``s * aspect[i]`` with ``s`` chosen so
    that the product reaches ``m``.
    """
    d = len(aspect)
    volume = float(np.prod(aspect))
    if 0 < volume < math.inf:
        scale = (m / volume) ** (1.0 / d)
    else:  # the product under- or overflows (many axes): the same scale from logs
        scale = math.exp((math.log(m) - float(np.log(aspect).sum())) / d)
    counts = [max(1, int(math.floor(scale * a))) for a in aspect]
    while math.prod(counts) < m:  # grow the axis whose cells are longest; at most d * (a few) rounds
        i = int(np.argmax(aspect / np.asarray(counts)))
        counts[i] += 1
    return counts


def cell_centred_grid(counts: list[int]) -> np.ndarray:
    """All cell centres ``(i + 1/2) / k`` of a tensor grid, shape ``(prod(counts), len(counts))``, in C order (the
    last axis fastest). Built from the mixed-radix digits of the row index, so any number of axes works (numpy's
    meshgrid stops at 64), in O(prod(counts) len(counts))."""
    k = np.asarray(counts, dtype=np.int64)
    strides = np.concatenate([np.cumprod(k[::-1])[::-1][1:], [1]]).astype(np.int64)
    index = np.arange(math.prod(counts), dtype=np.int64)[:, None]
    return ((index // strides) % k + 0.5) / k


def even_subset(count: int, n: int) -> np.ndarray:
    """``n`` distinct indices spread evenly over ``range(count)`` (requires ``n <= count``)."""
    return np.round(np.linspace(0, count - 1, n)).astype(np.int64) if n > 1 else np.zeros(n, np.int64)


def select(points: np.ndarray | torch.Tensor, n: int, method: str):
    """Exactly ``n`` of ``points`` (rows): a prefix for sequence methods, an even thinning for ordered ones."""
    if method in ORDERED_METHODS:
        return points[torch.as_tensor(even_subset(len(points), n))] if isinstance(points, torch.Tensor) \
            else points[even_subset(len(points), n)]
    return points[:n]


def _quiet(engine_call):
    # scipy warns that Sobol' balance needs a power of two; prefixes of any length are still low-discrepancy.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*balance properties of Sobol.*")
        return engine_call()


def unit_samples(m: int, d: int, method: str, rng: np.random.Generator, *,
                 aspect: np.ndarray | None = None, exact: bool = True) -> np.ndarray:
    """``m`` points in the open unit cube ``(0, 1)^d`` as a float64 array of shape ``(m, d)``.

    ``aspect`` (d,) sets the relative cell counts of the ``"uniform"`` grid (the side lengths of the box the
    cube is mapped to). With ``exact=False`` the uniform grid is returned whole (``>= m`` points), for callers
    that filter first and thin afterwards. ``d = 0`` gives an empty ``(m, 0)`` array.
    """
    method = check_method(method)
    check_method_dim(method, d)
    if d == 0:
        return np.zeros((m, 0))
    if m == 0:
        return np.zeros((0, d))
    if method == "uniform":
        aspect = np.ones(d) if aspect is None else np.asarray(aspect, dtype=np.float64)
        grid = cell_centred_grid(grid_shape(m, aspect))
        return select(grid, m, method) if exact else grid
    if method == "random":
        return rng.random((m, d))
    if method == "lhs":
        return qmc.LatinHypercube(d, rng=rng).random(m)
    if method == "sobol":
        return _quiet(lambda: qmc.Sobol(d, scramble=True, rng=rng).random(m))
    if method == "halton":
        return qmc.Halton(d, scramble=True, rng=rng).random(m)
    # hammersley
    first = (np.arange(m) + 0.5) / m
    if d == 1:
        return first[:, None]
    rest = qmc.Halton(d - 1, scramble=False).random(m + 1)[1:]
    return np.column_stack([first, rest])
