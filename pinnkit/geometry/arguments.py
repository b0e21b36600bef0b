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


#: log of the largest side whose cube is a finite float64 (about 5.6e102): a measure that overflows float64 is
#: refused when the side of the cube of the same measure is larger than this (see :func:`check_log_measure`).
_LOG_LARGEST_SIDE: Final = math.log(float(np.finfo(np.float64).max)) / 3


def check_log_measure(log_value: float, dim: int, names: str, what: str) -> float:
    """``log_value``, the log of a ``dim``-dimensional measure (length, area, volume, ...) of a domain or of its
    boundary, if the measure is acceptable; else the ``ValueError`` of :func:`check_measure` naming ``names``.

    In high dimensions the measure itself under- or overflows float64 for ordinary sizes (a unit ball in
    ``d = 1000`` has volume ``1e-886``, the box ``[-1, 1]^1100`` has ``2^1100``), so only its log is kept exact
    and an under- or overflow is allowed where the dimension causes it. A measure that overflows is refused
    when the side ``exp(log_value / dim)`` of the cube of the same measure exceeds ``max_float^(1/3)`` (about
    ``5.6e102``): in ``dim <= 3`` that is exactly when the measure overflows, so there the rule is unchanged.
    """
    if not math.isfinite(log_value) or (log_value > math.log(float(np.finfo(np.float64).max))
                                        and log_value / max(dim, 1) > _LOG_LARGEST_SIDE):
        check_measure(math.inf if log_value > 0 or math.isnan(log_value) else 0.0, names, what)
    return log_value


def exp_measure(log_value: float) -> float:
    """``exp(log_value)`` as a float64 measure: ``0.0`` on underflow and ``inf`` on overflow (high dimensions;
    the exact value is the log)."""
    try:
        return math.exp(log_value)
    except OverflowError:
        return math.inf
