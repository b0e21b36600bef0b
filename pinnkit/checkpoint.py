"""Checkpoint files: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dictionary of tensors, numbers, strings, lists and dicts (no pickled objects), so
loading it runs no code. Writing goes to a temporary file in the same directory, then ``os.replace``: a crash
mid-write never leaves a truncated file in place of a good one.

Every way a file can fail to be a checkpoint (missing, empty, truncated, not a torch file, pickled objects that
``weights_only=True`` refuses, a torch file that is not a pinnkit checkpoint, of another kind or missing keys)
is a :class:`~pinnkit.errors.CheckpointError` naming the file and what is wrong.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError

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


def torch_reason(err: BaseException) -> str:
    """The line of torch's message that says what is wrong: of a ``weights_only`` refusal the one naming the
    unsupported global or operand (torch surrounds it with advice), else the last non-empty line."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for line in lines:
        if "GLOBAL" in line or line.startswith("Unsupported"):
            return line
    return lines[-1] if lines else type(err).__name__


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device | None = "cpu", *,
                    kind: str | None = None, keys: Iterable[str] = ()) -> dict[str, Any]:
    """Read a pinnkit checkpoint with ``weights_only=True``.

    ``kind``: the training state it must hold (e.g. ``"pinn"``; None accepts any); ``keys``: entries it must have.
    Any file that is not such a checkpoint is a :class:`~pinnkit.errors.CheckpointError` naming the file and
    what is wrong (missing, a directory, empty, truncated or not a torch file, pickled objects refused by
    ``weights_only=True``, a torch file that is not a pinnkit checkpoint, another version, kind or missing keys).
    """
    name = os.fspath(path)
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {name!r} does not exist") from None
    except OSError as err:
        raise CheckpointError(f"checkpoint {name!r} cannot be read: {err.strerror or err}") from None
    if Path(path).is_dir():
        raise CheckpointError(f"checkpoint {name!r} is a directory, not a file")
    if size == 0:
        raise CheckpointError(f"checkpoint {name!r} is empty (0 bytes): an interrupted copy or write?")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if "GLOBAL" in str(err):
            raise CheckpointError(f"checkpoint {name!r} was refused: it holds pickled Python objects, which "
                                  f"torch.load(weights_only=True) does not load because loading them can run "
                                  f"code ({torch_reason(err)})") from None
        raise CheckpointError(f"checkpoint {name!r} is not a torch file, or is corrupted "
                              f"({torch_reason(err)})") from None
    except (RuntimeError, EOFError, KeyError, ValueError, zipfile.BadZipFile, OSError) as err:
        raise CheckpointError(f"checkpoint {name!r} is truncated or not a torch file ({size} bytes; "
                              f"{type(err).__name__}: {torch_reason(err)})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        what = (f"a dict without format={FORMAT!r}" if isinstance(state, dict) else type(state).__name__)
        raise CheckpointError(f"{name!r} is a torch file but not a pinnkit checkpoint: it holds {what} (write "
                              f"checkpoints with Trainer.save)")
    if state.get("version") != VERSION:
        raise CheckpointError(f"checkpoint {name!r} has version {state.get('version')!r}; this pinnkit reads "
                              f"{VERSION}")
    if kind is not None and state.get("kind") != kind:
        raise CheckpointError(f"checkpoint {name!r} holds a {state.get('kind')!r} state, not a {kind!r} one")
    missing = sorted(set(keys) - set(state))
    if missing:
        raise CheckpointError(f"checkpoint {name!r} lacks the entries {missing}")
    return state
