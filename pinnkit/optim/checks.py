"""Validation of optimizer arguments: every bad value becomes a ``ValueError`` naming the argument."""

from __future__ import annotations

import math
from collections.abc import Sequence


def check_lr(value, name: str = "lr") -> float:
    """``value`` as a finite ``float > 0``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return float(value)


def check_eps(value, name: str = "eps") -> float:
    """``value`` as a finite ``float >= 0``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite number; got {value!r}")
    return float(value)


def check_betas(value, name: str = "betas") -> tuple[float, float]:
    """``value`` as two floats in ``[0, 1)``."""
    try:
        b1, b2 = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (beta1, beta2) of numbers in [0, 1); got {value!r}") from None
    for b in (b1, b2):
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0.0 <= b < 1.0:
            raise ValueError(f"{name} must be a pair (beta1, beta2) of numbers in [0, 1); got {value!r}")
    return float(b1), float(b2)


def check_weights(value, name: str = "weights") -> tuple[float, ...] | None:
    """``None`` or a non-empty sequence of finite non-negative numbers, not all zero."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) == 0:
        raise ValueError(f"{name} must be None or a non-empty sequence of numbers; got {value!r}")
    for w in value:
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ValueError(f"{name} must be finite non-negative numbers; got {value!r}")
    if not any(value):
        raise ValueError(f"{name} must not be all zero; got {value!r}")
    return tuple(float(w) for w in value)


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    """``value`` as one of ``choices`` (case-insensitive)."""
    key = value.strip().lower() if isinstance(value, str) else None
    if key not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}")
    return key


def check_seed(value, name: str = "seed") -> int:
    """``value`` as a non-negative Python ``int``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {value!r}")
    return int(value)
