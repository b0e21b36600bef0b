"""The values a condition imposes: a number, one value per point, or a callable of the points.

:func:`check_value` checks one when a condition is built; :func:`evaluate_value` evaluates it at a condition's
points, ``(N, d) -> (N,)``, as a tensor of the points' dtype and device.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from ..checks import check_array, check_finite_float

Value = float | int | Callable[[Tensor], Tensor] | Tensor | np.ndarray

def evaluate_value(value: Value, points: Tensor, name: str) -> Tensor:
    """``value`` at ``points`` (N, d) as an (N,) tensor of the points' dtype and device."""
    n = len(points)
    if callable(value) and not isinstance(value, Tensor):
        out = torch.as_tensor(value(points), dtype=points.dtype, device=points.device)
    else:
        out = torch.as_tensor(value, dtype=points.dtype, device=points.device)
        if out.ndim == 0:
            return out.expand(n)
    if out.shape in ((n,), (n, 1)):
        if not bool(torch.isfinite(out).all()):
            raise ValueError(f"{name}: value is not finite at {int((~torch.isfinite(out)).sum())} of its {n} points "
                             "(a callable value must return finite numbers)")
        return out.reshape(n)
    raise ValueError(f"{name}: a value must be a number, one value per point, or a callable returning (N,) or "
                     f"(N, 1); got shape {tuple(out.shape)} for N = {n} points")


def check_value(value: Value, name: str) -> Value:
    """``value`` if it is a condition's value: a finite number, an array of finite numbers (a tensor, a numpy
    array, a nested sequence; kept as given) or a callable of the points; else ``ValueError`` naming ``name``."""
    if callable(value) and not isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return check_finite_float(value, name)
    if isinstance(value, (Tensor, np.ndarray, list, tuple)) and not isinstance(value, bool):
        check_array(value, name)
        return value
    raise ValueError(f"{name} must be a number, an array of one value per point, or a callable of the points "
                     f"(N, d); got {value!r}")
