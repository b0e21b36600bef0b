"""Checkpoint files: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dictionary of tensors, numbers, strings, lists and dicts (no pickled objects), so
loading it runs no code. Writing goes to a temporary file in the same directory, then ``os.replace``: a crash
mid-write never leaves a truncated file in place of a good one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

FORMAT = "pinnkit-checkpoint"
VERSION = 1


def save_atomic(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save({"format": FORMAT, "version": VERSION, **state}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device | None = "cpu") -> dict[str, Any]:
    """Read a pinnkit checkpoint with ``weights_only=True``; a clear error for other files."""
    state = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a pinnkit checkpoint")
    if state.get("version") != VERSION:
        raise ValueError(f"{path} has checkpoint version {state.get('version')}; this pinnkit reads {VERSION}")
    return state
