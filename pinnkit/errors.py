"""The errors pinnkit raises beyond ``ValueError`` for bad arguments."""

from __future__ import annotations


class NonFiniteLossError(RuntimeError):
    """The loss (or a gradient) became NaN or infinite; training went back to the last finite state (see the
    message), and nothing was saved from the non-finite one."""


class CheckpointError(ValueError):
    """A file that should hold a pinnkit checkpoint cannot be read as one (missing, empty, truncated, foreign, or
    asking for more than a checkpoint may build), or a checkpoint path that cannot be written; the message names
    the file and what is wrong."""
