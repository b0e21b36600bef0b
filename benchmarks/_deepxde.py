"""DeepXDE for side-by-side benchmarks: imported quietly with the PyTorch backend, torch's defaults kept."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterable
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


def on_device(device: str) -> contextlib.AbstractContextManager:
    """The context in which DeepXDE must build its model and train to run on ``device``.

    DeepXDE puts its tensors on torch's default device: on import it would make that CUDA for the whole process,
    which :func:`import_deepxde` undoes, so for a GPU run the default device is set around DeepXDE's calls only.
    On the CPU (the default already) this is a no-op, so DeepXDE's CPU steps carry no extra dispatch.
    """
    return contextlib.nullcontext() if torch.device(device).type == "cpu" else torch.device(device)


def check_device(parameters: Iterable[torch.Tensor], device: str) -> None:
    """Raise unless DeepXDE's network ``parameters`` are on ``device`` (a comparison across devices is void)."""
    where = {p.device.type for p in parameters}
    if where != {torch.device(device).type}:
        raise RuntimeError(f"DeepXDE's network is on {sorted(where)}, not on {device!r}: the timings would compare "
                           f"different devices")
