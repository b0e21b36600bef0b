"""Validation of geometry parameters: every bad value becomes a ``ValueError`` naming the argument."""

from __future__ import annotations

import numpy as np


def as_vector(value, name: str, dim: int | None = None) -> np.ndarray:
    """``value`` as a finite float64 vector (of length ``dim`` if given)."""
    try:
        v = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a vector of real numbers; got {value!r}") from None
    if v.ndim != 1 or (dim is not None and len(v) != dim) or len(v) == 0:
        expected = f"length {dim}" if dim is not None else "a non-empty 1-D sequence"
        raise ValueError(f"{name} must be a vector of {expected}; got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite; got {v.tolist()}")
    return v


def as_scalar(value, name: str, *, positive: bool = False) -> float:
    """``value`` as a finite float (strictly positive if ``positive``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number; got {value!r}") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite; got {v}")
    if positive and v <= 0:
        raise ValueError(f"{name} must be positive; got {v}")
    return v
