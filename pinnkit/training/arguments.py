"""Checks of the arguments every trainer takes (device, dtype, seed, compile): one message for each, whichever
trainer is given the bad value."""

from __future__ import annotations

import torch


def check_device(device: object) -> torch.device:
    """``device`` as a ``torch.device``; a ``ValueError`` for a malformed one or CUDA on a machine without it."""
    try:
        out = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must be a torch device such as 'cpu' or 'cuda'; got {device!r}") from err
    if out.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r}: CUDA is not available on this machine")
    return out


def check_dtype(dtype: object) -> torch.dtype:
    """``dtype`` if it is a floating torch dtype, else a ``ValueError``."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating torch dtype (torch.float32, torch.float64); got {dtype!r}")
    return dtype


def check_seed(seed: object) -> int:
    """``seed`` if it is a non-negative integer (not a bool), else a ``ValueError``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    return seed


def check_compile(compile: object, backend: str) -> bool:
    """``compile`` if it is a bool that ``backend`` allows (``True`` needs ``"taylor"``: only a forward jet pass
    can go through ``torch.compile``), else a ``ValueError``."""
    if not isinstance(compile, bool):
        raise ValueError(f"compile must be True or False; got {compile!r}")
    if compile and backend != "taylor":
        raise ValueError(f"compile=True needs backend='taylor' (reverse-mode derivative graphs cannot be "
                         f"compiled); got backend={backend!r}")
    return compile
