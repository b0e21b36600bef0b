"""Arguments of geometry constructors: coordinate names, and sizes a domain can be sampled at."""

from __future__ import annotations

import math
from typing import Final

import numpy as np


def default_names(dim: int) -> tuple[str, ...]:
    """``x, y, z`` for up to three dimensions, ``x1 ... xd`` beyond."""
    return ("x", "y", "z")[:dim] if dim <= 3 else tuple(f"x{i + 1}" for i in range(dim))


def check_names(names, dim: int) -> tuple[str, ...]:
    """Validate user-given coordinate names: ``dim`` distinct non-empty identifiers."""
    if names is None:
        return default_names(dim)
    if not isinstance(names, str) and not isinstance(names, (tuple, list)):
        raise ValueError(f"names must be {dim} distinct identifiers (one per coordinate); got {names!r}")
    names = (names,) if isinstance(names, str) else tuple(names)
    if len(names) != dim or len(set(names)) != dim or not all(isinstance(s, str) and s.isidentifier()
                                                              for s in names):
        raise ValueError(f"names must be {dim} distinct identifiers (one per coordinate); got {names!r}")
    return names


_RESOLUTION: Final = 1024 * float(np.finfo(np.float64).eps)  # relative size below which inside ~ boundary
_SMALLEST: Final = float(np.finfo(np.float64).tiny / np.finfo(np.float64).eps)  # full precision above this


def check_size(size: float, scale: float, names: str, what: str) -> None:
    """A width, radius or semi-axis ``size`` of a domain at coordinates of magnitude ``scale``: finite, and large
    enough that float64 points tell its interior from its boundary (``> 1024 eps scale`` and ``> tiny / eps``);
    else a ``ValueError`` naming the arguments ``names`` it comes from."""
    if not (math.isfinite(size) and math.isfinite(scale)):
        raise ValueError(f"{names} must give a finite {what}; got {size!r} (coordinates and sizes up to about "
                         "1e150 keep lengths, areas and volumes finite)")
    smallest = max(_RESOLUTION * scale, _SMALLEST)
    if size <= smallest:
        raise ValueError(f"{names} must give a {what} above {smallest:.3g} (1024 float64 roundings at coordinates "
                         f"of size {scale:.3g}), or inside and boundary cannot be told apart; got {size!r}")


def check_measure(value: float, names: str, what: str) -> None:
    """A length / area / volume of a domain or of its boundary must be finite (``ValueError`` naming ``names``)."""
    if not math.isfinite(value):
        raise ValueError(f"{names} must give a finite {what}; got {value!r} (coordinates and sizes up to about "
                         "1e150 keep lengths, areas and volumes finite)")
