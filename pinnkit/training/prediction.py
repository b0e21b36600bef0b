"""Evaluating a trained network at points, and reference solutions to compare it with."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn


def predict_points(net: nn.Module, x, domain, dtype: torch.dtype, device: torch.device) -> np.ndarray:
    """``net`` at points ``x`` ``(n, d)`` (columns in ``domain.names``) as a float64 numpy ``(n, k)``, in chunks,
    without gradients; a clear error for points of the wrong shape."""
    points = as_points(x, domain, dtype, device)
    with torch.no_grad():
        return torch.cat([net(p) for p in points.split(65536)]).double().cpu().numpy()


def as_points(x, domain, dtype: torch.dtype, device: torch.device) -> Tensor:
    """``x`` (n, d) as a tensor of ``dtype`` on ``device``, or a ``ValueError`` naming the expected columns."""
    points = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x, dtype=dtype, device=device)
    if points.ndim != 2 or points.shape[1] != domain.dim:
        raise ValueError(f"x must have shape (n, {domain.dim}) with columns {domain.names}; got "
                         f"{tuple(points.shape)}")
    return points


def reference_arrays(reference: tuple[Any, Any], problem, dtype: torch.dtype, device: torch.device
                     ) -> tuple[Tensor, np.ndarray]:
    """A reference solution ``(points (N, d), values (N, k))`` as (tensor of ``dtype`` on ``device``, float64
    numpy), checked against the problem's coordinates and outputs."""
    if not isinstance(reference, (tuple, list)) or len(reference) != 2:
        raise ValueError("reference must be a pair (points (N, d), values (N, k))")
    points, values = reference
    x = torch.as_tensor(np.asarray(points), dtype=dtype, device=device)
    y = np.asarray(values, dtype=np.float64)
    k = len(problem.outputs)
    if x.ndim != 2 or x.shape[1] != problem.domain.dim or y.size != len(x) * k:
        raise ValueError(f"reference must be (points (N, {problem.domain.dim}), values (N, {k})); got "
                         f"{tuple(x.shape)} and {y.shape}")
    if not bool(torch.isfinite(x).all()) or not np.isfinite(y).all():
        raise ValueError("reference: its points and values must be finite (NaN or inf would make every error NaN)")
    return x, y.reshape(len(x), k)
