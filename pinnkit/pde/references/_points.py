"""Shared input handling of the closed-form references: numpy or torch points in, the same kind out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor


def evaluate_formula(formula: Callable[[Tensor], Tensor], points: Any, columns: int, name: str) -> Any:
    """``formula`` at ``points`` (N, columns): a tensor for a tensor (autograd flows through it, dtype and device
    kept), else a float64 numpy array (array-likes are converted to float64)."""
    if isinstance(points, Tensor):
        x = points
    else:
        x = torch.as_tensor(np.asarray(points, dtype=np.float64))
    if x.ndim != 2 or x.shape[1] != columns:
        raise ValueError(f"{name}: points must have shape (N, {columns}); got {tuple(x.shape)}")
    out = formula(x)
    return out if isinstance(points, Tensor) else out.numpy()
