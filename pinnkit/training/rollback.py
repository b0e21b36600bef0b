"""The last finite state of a training loop, kept so that a non-finite loss or gradient costs nothing.

Before each optimizer step the loop records the state whose loss it has just evaluated finite: the trainable
tensors (copied into buffers of their own), the optimizer's and the scheduler's state, the objective's moving
state (points, random streams, weights: :meth:`~pinnkit.training.Objective.snapshot`), the step count, the time
and the length of the history. When the next evaluation is not finite, :meth:`FiniteState.restore` puts all of
it back, so the loop stops exactly where it last stood on finite ground.

A fused step (:mod:`pinnkit.training.fused_step`) keeps the parameters and the optimizer's moments of that state
itself, inside its graph; the loop then records only the rest (:meth:`FiniteState.take_moving`) and hands over
the fused step's own restore.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor


def clone_tensors(value: Any) -> Any:
    """``value`` with every tensor in it (in dicts, lists and tuples, at any depth) replaced by a detached copy."""
    if isinstance(value, Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: clone_tensors(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(clone_tensors(v) for v in value)
    return value


def copy_tensors(value: Any, into: Any = None) -> Any:
    """:func:`clone_tensors` of ``value``, reusing the tensors of ``into`` (an earlier copy of the same structure:
    ``copy_`` into a tensor of the same shape, dtype and device) instead of allocating new ones; the reused ones
    are filled by one multi-tensor copy (:func:`copy_all`), not one call per tensor."""
    targets: list[Tensor] = []
    sources: list[Tensor] = []
    copy = _copy_structure(value, into, targets, sources)
    copy_all(targets, sources)
    return copy


def _copy_structure(value: Any, into: Any, targets: list[Tensor], sources: list[Tensor]) -> Any:
    """``value``'s structure with a new tensor for each tensor that ``into`` cannot hold, and ``into``'s tensor
    where it can; those pairs are appended to ``targets`` and ``sources`` for the caller to copy."""
    if isinstance(value, Tensor):
        if (isinstance(into, Tensor) and into.shape == value.shape and into.dtype == value.dtype
                and into.device == value.device):
            targets.append(into)
            sources.append(value)  # copied under no_grad (copy_all)
            return into
        return value.detach().clone()
    if isinstance(value, dict):
        old = into if isinstance(into, dict) else {}
        return {k: _copy_structure(v, old.get(k), targets, sources) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        old = into if isinstance(into, (list, tuple)) and len(into) == len(value) else [None] * len(value)
        return type(value)(_copy_structure(v, o, targets, sources) for v, o in zip(value, old, strict=True))
    return value


def copy_all(targets: list[Tensor], sources: list[Tensor]) -> None:
    """``targets[i].copy_(sources[i])`` for every i (same shapes, dtypes and devices, pairwise), without recording
    gradients, as one ``torch._foreach_copy_`` per device: a snapshot of a small network's parameters and Adam
    moments is dozens of tensors, and a call each cost a few microseconds per step."""
    if not targets:
        return
    with torch.no_grad():
        if not hasattr(torch, "_foreach_copy_"):  # torch releases before the multi-tensor copy
            for t, s in zip(targets, sources, strict=True):
                t.copy_(s)
            return
        devices = {t.device for t in targets}
        if len(devices) == 1:
            torch._foreach_copy_(targets, sources)
            return
        for device in devices:
            pairs = [(t, s) for t, s in zip(targets, sources, strict=True) if t.device == device]
            torch._foreach_copy_([t for t, _ in pairs], [s for _, s in pairs])


def all_finite(tensors: list[Tensor]) -> bool:
    """Whether every entry of every tensor is finite (one synchronisation)."""
    if not tensors:
        return True
    return bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all())


class FiniteState:
    """A snapshot of a :class:`~pinnkit.training.TrainingLoop` (see the module docstring), taken in place: the
    parameter buffers are allocated once and reused."""

    def __init__(self):
        self._buffers: list[Tensor] | None = None
        self.optimizer: dict | None = None
        self.taken = False
        self._restore_tensors: Callable[[], None] | None = None  # set by take_moving
        self._groups: list[dict[str, Any]] = []

    def take(self, loop) -> None:
        params = loop.trainable_parameters()
        with torch.no_grad():
            if self._buffers is None or len(self._buffers) != len(params) or any(
                    b.shape != p.shape or b.dtype != p.dtype or b.device != p.device
                    for b, p in zip(self._buffers, params, strict=True)):
                self._buffers = [p.detach().clone() for p in params]
            else:
                copy_all(self._buffers, params)
        # the optimizer's moments into the buffers of the last snapshot (their structure rarely changes)
        self.optimizer = copy_tensors(loop.optimizer.state_dict(), self.optimizer)
        self._restore_tensors = None
        self._take_rest(loop)

    def take_moving(self, loop, restore_tensors: Callable[[], None]) -> None:
        """:meth:`take`, but for the parameters and the optimizer's state tensors, which the caller keeps
        (a fused step's snapshot) and ``restore_tensors()`` puts back; the optimizer's hyperparameters (a
        scheduler's learning rate) are kept here."""
        self._restore_tensors = restore_tensors
        self._groups = [{k: v for k, v in g.items() if k != "params"} for g in loop.optimizer.param_groups]
        self._take_rest(loop)

    def _take_rest(self, loop) -> None:
        self.scheduler = None if loop.scheduler is None else clone_tensors(loop.scheduler.state_dict())
        self.objective = loop.objective.snapshot()
        self.step, self.elapsed, self.records = loop.step, loop._elapsed, len(loop.history)
        self.taken = True

    def restore(self, loop) -> None:
        """Put the snapshot back into ``loop`` (its parameters in place, so optimizers keep their references)."""
        if not self.taken:
            return
        if self._restore_tensors is not None:
            self._restore_tensors()
            for group, held in zip(loop.optimizer.param_groups, self._groups, strict=True):
                group.update(held)
        else:
            with torch.no_grad():
                for p, b in zip(loop.trainable_parameters(), self._buffers, strict=True):
                    p.copy_(b)
            loop.optimizer.load_state_dict(clone_tensors(self.optimizer))
        if loop.scheduler is not None and self.scheduler is not None:
            loop.scheduler.load_state_dict(self.scheduler)
        loop.objective.restore(self.objective)
        loop.step, loop._elapsed = self.step, self.elapsed
        del loop.history[self.records:]
        for p in loop.trainable_parameters():
            p.grad = None
