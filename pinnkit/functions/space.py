"""The interface of a space of random input functions on an interval (for operator learning).

A function space draws ``M`` random functions as feature vectors (coefficients, or values on a grid) and
evaluates them anywhere in its interval:

>>> space = GaussianRandomField(length_scale=0.2)
>>> features = space.sample(100, seed=0)              # (100, q) float64
>>> v = space.evaluate(features, torch.linspace(0, 1, 50))   # (100, 50): the branch net's sensor values

Everything is float64 on the CPU; cast the results to the training dtype and device.
"""

from __future__ import annotations

import abc

import numpy as np
import torch
from torch import Tensor

from ..checks import check_finite_float, check_positive_int, check_seed

Seed = int | np.random.Generator | None


def as_interval(interval, name: str = "interval") -> tuple[float, float]:
    """``interval`` as ``(a, b)`` floats with ``a < b``, else a ``ValueError``."""
    try:
        a, b = (check_finite_float(v, name) for v in interval)
    except (TypeError, ValueError):
        a = b = None
    if a is None or not a < b:
        raise ValueError(f"{name} must be a pair (a, b) of finite numbers with a < b; got {interval!r}")
    return a, b


def as_generator(seed: Seed) -> np.random.Generator:
    """A numpy generator from an int seed, a generator (used as is) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    try:
        seed = check_seed(seed, allow_none=True)
    except ValueError:
        raise ValueError(f"seed must be a non-negative integer, a numpy Generator or None; got {seed!r}") from None
    return np.random.default_rng(seed)


class FunctionSpace(abc.ABC):
    """Random functions ``v: [a, b] -> R``; see the module docstring."""

    def __init__(self, interval=(0.0, 1.0)):
        self.interval = as_interval(interval)

    @property
    @abc.abstractmethod
    def features(self) -> int:
        """Length ``q`` of one function's feature vector."""

    @abc.abstractmethod
    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, q) features."""

    @abc.abstractmethod
    def _evaluate(self, features: np.ndarray, x: np.ndarray) -> np.ndarray:
        """(M, N) values of the functions ``features`` (M, q) at points ``x`` (N,) inside the interval."""

    def sample(self, n: int, seed: Seed = None) -> Tensor:
        """Features (n, q), float64, of ``n`` independent random functions; ``seed`` makes them reproducible."""
        n = check_positive_int(n, "n")
        return torch.from_numpy(np.ascontiguousarray(self._sample(n, as_generator(seed)), dtype=np.float64))

    def evaluate(self, features, x) -> Tensor:
        """Values (M, N), float64, of the functions ``features`` (M, q) at points ``x`` (N,) or (N, 1)."""
        f = np.asarray(features.detach().cpu() if isinstance(features, Tensor) else features, dtype=np.float64)
        if f.ndim != 2 or f.shape[1] != self.features:
            raise ValueError(f"features must have shape (M, {self.features}) as given by sample(); got {f.shape}")
        p = np.asarray(x.detach().cpu() if isinstance(x, Tensor) else x, dtype=np.float64)
        if p.ndim == 2 and p.shape[1] == 1:
            p = p[:, 0]
        if p.ndim != 1:
            raise ValueError(f"x must be points of shape (N,) or (N, 1); got {p.shape}")
        a, b = self.interval
        tol = 1e-12 * max(1.0, abs(a), abs(b))
        if p.size and (p.min() < a - tol or p.max() > b + tol):
            raise ValueError(f"x must lie in the interval [{a}, {b}] of the function space; got values in "
                             f"[{p.min()}, {p.max()}]")
        return torch.from_numpy(np.ascontiguousarray(self._evaluate(f, np.clip(p, a, b)), dtype=np.float64))
