"""DeepXDE for side-by-side benchmarks: imported quietly with the PyTorch backend, torch's defaults kept."""

from __future__ import annotations

import contextlib
import io
import os
from typing import Any

import torch


def import_deepxde() -> Any | None:
    """The ``deepxde`` module, or ``None`` if it is not installed.

    DeepXDE announces its backend on import and may move torch's default device (and dtype); both are put
    back so pinnkit and DeepXDE run under the same settings in one process.
    """
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    dtype, device = torch.get_default_dtype(), torch.empty(0).device
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import deepxde
    except ImportError:
        return None
    torch.set_default_dtype(dtype)
    torch.set_default_device(device)
    return deepxde
