"""Callbacks: code a training loop (:class:`~pinnkit.training.TrainingLoop`: :class:`~pinnkit.Trainer`, the
operator trainer, the dynamics fits) calls during ``fit``.

A callback overrides any of the hooks below; setting ``trainer.stop_training = True`` ends the fit after the
current step. Records passed to :meth:`Callback.on_log` are the trainer's history entries (step, loss, each
term, learning rate, time, metrics).
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from .checkpoint import check_writable
from .checks import check_in_interval, check_positive_int
from .errors import NonFiniteLossError

if TYPE_CHECKING:
    from .training import TrainingLoop


class Callback:
    """Base class: every hook does nothing."""

    def on_fit_start(self, trainer: TrainingLoop) -> None:
        """Before the first step of a fit."""

    def on_step_end(self, trainer: TrainingLoop, step: int, loss: float) -> None:
        """After each optimisation step (L-BFGS: after each chunk of iterations)."""

    def on_log(self, trainer: TrainingLoop, record: dict[str, Any]) -> None:
        """When a history record is written (every ``log_every`` steps and at the end)."""

    def on_fit_end(self, trainer: TrainingLoop) -> None:
        """After the last step of a fit (also when it stops early)."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` (a history key, default the total loss) has not improved by ``min_delta``
    (relative) for ``patience`` log records."""

    def __init__(self, monitor: str = "loss", patience: int = 10, min_delta: float = 0.0):
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"monitor must be the name of a history entry (e.g. 'loss'); got {monitor!r}")
        self.monitor = monitor
        self.patience = check_positive_int(patience, "patience")
        self.min_delta = check_in_interval(min_delta, "min_delta", 0.0, 1.0, high_open=True)
        self.best, self.waited = math.inf, 0

    def on_fit_start(self, trainer):
        keys = trainer.record_keys()
        if self.monitor not in keys:
            raise ValueError(f"EarlyStopping: monitor={self.monitor!r} is not in the history; its entries are "
                             f"{sorted(keys)}")

    def on_log(self, trainer, record):
        value = record.get(self.monitor)
        if value is None:
            raise ValueError(f"EarlyStopping: the history has no {self.monitor!r}; keys are {sorted(record)}")
        if self.best == math.inf or value < self.best * (1 - self.min_delta):
            self.best, self.waited = value, 0
        else:
            self.waited += 1
            if self.waited >= self.patience:
                trainer.stop_training = True
                trainer.stop_reason = f"early stopping: {self.monitor} did not improve for {self.patience} records"


class Checkpoint(Callback):
    """Save the full training state to ``path`` every ``every`` steps and at the end of each fit.

    A state whose loss is not finite is never written (it is counted in :attr:`skipped`), so a good checkpoint
    is never replaced by a broken one; each file holds the loss of its state. A ``path`` that cannot be written
    (its directory is a file, or not writable) is a :class:`~pinnkit.errors.CheckpointError` at the start of the
    fit, before any training step.
    """

    def __init__(self, path: str | os.PathLike, every: int = 1000):
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise ValueError(f"path must be a file path (str or os.PathLike); got {path!r}")
        self.path, self.every = path, check_positive_int(every, "every")
        self.skipped = 0
        self._last_step: int | None = None

    def _save(self, trainer):
        try:
            trainer.save(self.path)
        except NonFiniteLossError:  # the loss of this state is not finite: keep the last good file
            self.skipped += 1

    def on_fit_start(self, trainer):
        check_writable(self.path, "Checkpoint path")
        self._last_step = trainer.step

    def on_step_end(self, trainer, step, loss):
        # L-BFGS advances several steps at a time: save whenever a multiple of `every` was passed
        last = trainer.step if self._last_step is None else self._last_step
        if step // self.every > last // self.every:
            self._save(trainer)
        self._last_step = step

    def on_fit_end(self, trainer):
        self._save(trainer)


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_log=lambda trainer, record: ...)``."""

    def __init__(self, **hooks):
        unknown = set(hooks) - {"on_fit_start", "on_step_end", "on_log", "on_fit_end"}
        if unknown:
            raise ValueError(f"LambdaCallback: unknown hooks {sorted(unknown)}")
        for name, fn in hooks.items():
            if not callable(fn):
                raise ValueError(f"LambdaCallback: {name} must be a function; got {type(fn).__name__}")
            setattr(self, name, fn)
