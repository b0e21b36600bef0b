"""Checkpoint files: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dictionary of tensors, numbers, strings, lists and dicts (no pickled objects), so
loading it runs no code. Writing goes to a temporary file in the same directory (``.{name}.tmp-{pid}-{random}``,
with the mode a plain ``open()`` gives), which is flushed and fsynced, then renamed over the target with
``os.replace``, and the directory is fsynced: a crash mid-write never leaves a truncated file in place of a good
one. A failed write removes its temporary file; the next save to the same target removes the temporary files
that interrupted saves (of processes no longer running) left behind.

Every way a file can fail to be a checkpoint (missing, empty, truncated, not a torch file, pickled objects that
``weights_only=True`` refuses, a torch file that is not a pinnkit checkpoint, of another kind or missing keys)
is a :class:`~pinnkit.errors.CheckpointError` naming the file and what is wrong; so is a path that cannot be
written (:func:`check_writable`, called before training by :class:`~pinnkit.callbacks.Checkpoint`).
"""

from __future__ import annotations

import os
import pickle
import secrets
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError

FORMAT = "pinnkit-checkpoint"
VERSION = 1


def unwritable_reason(path: str | os.PathLike) -> str | None:
    """Why a file cannot be created (or replaced) at ``path``, or None if it can, as far as can be told without
    writing: ``path`` must not be a directory, and its nearest existing ancestor must be a directory this process
    may write to and enter, and in which a file can be created (tried with a temporary file, removed at once;
    missing directories below it are created when saving)."""
    path = Path(path)
    if path.is_dir():
        return "it is a directory"
    parent = path.parent
    while not parent.exists():
        if parent.is_symlink():
            return f"{parent} is a broken symbolic link"
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"the directory {parent} is not writable"
    try:  # permissions can say yes where the file system says no (read-only mounts, /proc)
        with tempfile.TemporaryFile(dir=parent, prefix=".pinnkit-probe-"):
            pass
    except OSError as err:
        return f"files cannot be created in {parent} ({err.strerror or err})"
    return None


def check_writable(path: str | os.PathLike, what: str = "checkpoint") -> Path:
    """``path`` as a ``Path`` if a file can be written there (see :func:`unwritable_reason`), else a
    :class:`~pinnkit.errors.CheckpointError` naming ``what``, the path and the reason. Call it before a long
    run whose result goes to ``path``."""
    reason = unwritable_reason(path)
    if reason is not None:
        raise CheckpointError(f"cannot write the {what} {os.fspath(path)!r}: {reason}")
    return Path(path)


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.tmp-"


def _pid_running(pid: int) -> bool:
    """Whether a process ``pid`` exists (POSIX; elsewhere assume it does, so its file is left alone)."""
    if pid == os.getpid():
        return False  # a temp of this process is never in use between saves
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """The temporary files that interrupted saves to ``path`` left in its directory (``.{name}.tmp-{pid}-*``
    of a process that is no longer running, or of this one)."""
    path = Path(path)
    prefix = _temp_prefix(path)
    found = []
    try:
        with os.scandir(path.parent) as entries:
            for entry in entries:
                if not entry.name.startswith(prefix):
                    continue
                pid = entry.name[len(prefix):].split("-", 1)[0]
                if pid.isdigit() and not _pid_running(int(pid)):
                    found.append(Path(entry.path))
    except OSError:
        return []
    return found


def _fsync_directory(directory: Path) -> None:
    """fsync ``directory`` so that a rename in it is durable (skipped where directories cannot be opened)."""
    flag = getattr(os, "O_DIRECTORY", None)
    if flag is None:
        return
    try:
        fd = os.open(directory, os.O_RDONLY | flag)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not support fsync on directories
    finally:
        os.close(fd)


def save_atomic(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically; returns the path. A path that cannot be written is a
    :class:`~pinnkit.errors.CheckpointError` before anything is written."""
    path = check_writable(path)
    for stale in stale_temporaries(path):
        stale.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f"{_temp_prefix(path)}{os.getpid()}-{secrets.token_hex(4)}"
    # O_EXCL: never write into someone else's file; mode 0o666 & ~umask, as open() gives (mkstemp gives 0600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save({"format": FORMAT, "version": VERSION, **state}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
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
