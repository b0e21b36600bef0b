"""Error measures between a prediction and a reference (numpy arrays or tensors of the same shape)."""

from __future__ import annotations

import numpy as np


def _arrays(pred, ref) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred.detach().cpu() if hasattr(pred, "detach") else pred, dtype=np.float64)
    r = np.asarray(ref.detach().cpu() if hasattr(ref, "detach") else ref, dtype=np.float64)
    if p.shape != r.shape:
        if p.size == r.size:
            p = p.reshape(r.shape)
        else:
            raise ValueError(f"prediction and reference must have the same shape; got {p.shape} and {r.shape}")
    return p, r


def l2_relative_error(pred, ref) -> float:
    """``||pred - ref||_2 / ||ref||_2`` over all entries."""
    p, r = _arrays(pred, ref)
    return float(np.linalg.norm(p - r) / np.linalg.norm(r))


def mean_squared_error(pred, ref) -> float:
    """Mean of ``(pred - ref)^2`` over all entries."""
    p, r = _arrays(pred, ref)
    return float(np.mean((p - r) ** 2))


def max_abs_error(pred, ref) -> float:
    """Largest ``|pred - ref|``."""
    p, r = _arrays(pred, ref)
    return float(np.max(np.abs(p - r)))
