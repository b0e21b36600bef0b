r"""Multi-indices and the combinatorics of jets: closures, Leibniz splits, Faà di Bruno terms.

A multi-index ``alpha`` is a sorted tuple of coordinate indices: ``()`` is the value, ``(0,)`` is
:math:`\partial/\partial x_0`, ``(0, 0)`` :math:`\partial^2/\partial x_0^2` and ``(0, 1)`` the mixed partial
:math:`\partial^2/\partial x_0 \partial x_1` (mixed partials of smooth functions commute, so the order of the
entries does not matter and they are kept sorted). :math:`\alpha_i` below is the number of times coordinate ``i``
occurs in ``alpha``.

Everything here is plain Python on small tuples (coefficient tables), memoised with :func:`constant_memo`.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TypeVar

import torch

T = TypeVar("T")

#: A multi-index: the sorted coordinate indices of a partial derivative, e.g. ``(0, 0)`` for u_xx, ``(0, 1)`` for
#: u_xt, ``()`` for the value.
MultiIndex = tuple[int, ...]


def normalise(alpha: Iterable[int]) -> MultiIndex:
    """``alpha`` as a sorted tuple of ints."""
    return tuple(sorted(int(i) for i in alpha))


def constant_memo(function: Callable[..., T]) -> Callable[..., T]:
    """Memoise a pure function of small hashable arguments that returns plain Python constants (coefficient
    tables). Under ``torch.compile`` the function is traced directly instead (its result becomes a constant of
    the graph), since tracing through a cache wrapper is not something Dynamo vouches for."""
    cached = functools.lru_cache(maxsize=256)(function)

    @functools.wraps(function)
    def wrapper(*args):
        return function(*args) if torch.compiler.is_compiling() else cached(*args)

    return wrapper


def jet_closure(alphas: Iterable[MultiIndex]) -> list[MultiIndex]:
    """Every sub-multiset of every multi-index in ``alphas`` (with ``()``), sorted by order then lexicographically."""
    return list(_closure(tuple(sorted({normalise(a) for a in alphas}))))


@constant_memo
def _closure(alphas: tuple[MultiIndex, ...]) -> tuple[MultiIndex, ...]:
    out: set[MultiIndex] = {()}
    for alpha in alphas:
        out.update(gamma for gamma, _, _ in sub_multisets(alpha))
    return tuple(sorted(out, key=lambda a: (len(a), a)))


@constant_memo
def sub_multisets(alpha: MultiIndex) -> tuple[tuple[MultiIndex, MultiIndex, int], ...]:
    r"""Every split of the multi-index ``alpha`` into a sub-multiset :math:`\gamma` and its complement
    :math:`\alpha - \gamma`, with the multinomial weight :math:`\prod_i \binom{\alpha_i}{\gamma_i}` (the Leibniz
    rule's coefficient)."""
    counts = Counter(alpha)
    coords = sorted(counts)
    out = []
    for picks in itertools.product(*(range(counts[c] + 1) for c in coords)):
        gamma = tuple(c for c, n in zip(coords, picks, strict=True) for _ in range(n))
        rest = tuple(c for c, n in zip(coords, picks, strict=True) for _ in range(counts[c] - n))
        weight = 1
        for c, n in zip(coords, picks, strict=True):
            weight *= math.comb(counts[c], n)
        out.append((gamma, rest, weight))
    return tuple(out)


def _set_partitions(items: tuple[int, ...]) -> Iterable[list[tuple[int, ...]]]:
    """All partitions of the positions ``items`` into non-empty blocks."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for partition in _set_partitions(rest):
        yield [(first,), *partition]
        for i, block in enumerate(partition):
            yield partition[:i] + [(first, *block)] + partition[i + 1:]


@constant_memo
def faa_di_bruno(alpha: MultiIndex) -> tuple[tuple[int, int, tuple[MultiIndex, ...]], ...]:
    r"""The grouped terms of :math:`\partial^\alpha \sigma(z)` (multivariate Faà di Bruno formula,
    :math:`\sum_{\pi \in \Pi(\alpha)} \sigma^{(|\pi|)}(z) \prod_{B \in \pi} \partial^B z` over the set partitions of
    the positions of ``alpha``): ``(count, k, blocks)`` meaning ``count * sigma^(k)(z) * prod(d^B z for B in
    blocks)`` with ``k = len(blocks)``."""
    terms: Counter = Counter()
    for partition in _set_partitions(tuple(range(len(alpha)))):
        blocks = tuple(sorted(tuple(sorted(alpha[i] for i in block)) for block in partition))
        terms[blocks] += 1
    return tuple((count, len(blocks), blocks) for blocks, count in sorted(terms.items(), key=lambda t: len(t[0])))


def parent(alpha: MultiIndex, cached: Callable[[MultiIndex], bool]) -> tuple[MultiIndex, int]:
    """A multi-index one order lower than the non-empty ``alpha`` (one that ``cached`` accepts if possible) and
    the coordinate to differentiate it by."""
    options = [(alpha[:k] + alpha[k + 1:], alpha[k]) for k in range(len(alpha)) if k == 0 or alpha[k] != alpha[k - 1]]
    for lower, i in options:
        if cached(lower):
            return lower, i
    return options[-1]
