"""The checkpoint half of :class:`~pinnkit.training.loop.TrainingLoop`: its whole state as a dict, written once and
atomically, and read back for an exact resume.

A state holds the loop's own entries (step, elapsed time, history, optimizer and its rebuild recipe, scheduler,
loss weights, the ranks of data-parallel training, torch's random state, the loss at this state and the
fingerprint of the problem and network) beside the objective's (:meth:`Objective.state_dict
<pinnkit.training.objective.Objective.state_dict>`: network, PDE parameters, points, its random streams). Only a
state whose loss is finite is written; resuming checks the fingerprint (:mod:`pinnkit.training.fingerprint`) and
the ranks (:func:`pinnkit.distributed.training.check_resume`) before anything is loaded.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import torch

from ..checkpoint import load_checkpoint, save_atomic
from ..checks import check_bool
from ..distributed.collectives import barrier
from ..distributed.training import check_resume, ranks_state
from ..errors import CheckpointError, NonFiniteLossError
from .fingerprint import check_fingerprint
from .optimizers import OptimizerChoice
from .rollback import FiniteState


class LoopState:
    """:meth:`state_dict`, :meth:`save`, :meth:`load_state` and :meth:`load_state_dict` of the training loop,
    which provides ``objective``, ``optimizer``, ``scheduler``, ``step``, ``history``, ``ranks`` and
    :meth:`current_loss` (this class holds no state of its own)."""

    def state_dict(self) -> dict[str, Any]:
        """The full training state: the loop's (step, time, history, optimizer, scheduler, loss weights, torch's
        random state, the loss at this state) and the objective's (:meth:`Objective.state_dict`)."""
        own = {"kind": self.objective.kind, "step": self.step, "elapsed": self._elapsed, "history": self.history,
               "loss": self.current_loss(),
               "fingerprint": self.objective.fingerprint(),
               "optimizer_name": self.optimizer_name, "optimizer": self.optimizer.state_dict(),
               "optimizer_choice": self._choice.plain(),
               "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
               "loss_weights": self.loss_weights,
               "ranks": ranks_state(self.ranks),
               "torch_rng": {"cpu": torch.get_rng_state(),
                             "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}}
        objective = self.objective.state_dict()
        clash = sorted(set(own) & set(objective))
        if clash:
            raise RuntimeError(f"the objective's state uses the loop's keys {clash}")
        return {**own, **objective}

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`state_dict` to ``path`` atomically (:mod:`pinnkit.checkpoint`); :meth:`load_state`
        resumes exactly. A state whose loss is not finite is refused (:class:`NonFiniteLossError`), so a good
        checkpoint is never replaced by a broken one."""
        state = self.state_dict()
        if not math.isfinite(state["loss"]):
            raise NonFiniteLossError(f"not saving to {path}: the loss of this state is {state['loss']} (step "
                                     f"{self.step}); the file keeps what it held")
        if self.is_main:
            save_atomic(state, path)
        if self.ranks is not None:  # the file is complete before any rank goes on (and may read it)
            barrier(self.ranks)

    def load_state(self, path: str | os.PathLike, strict: bool = True) -> None:
        """Resume from a checkpoint written by :meth:`save` for the same set-up: the network, PDE parameters,
        optimizer (rebuilt as it was, then its state), scheduler, points, random streams, step and history.

        A checkpoint written for another problem, network or dtype is refused with a :class:`CheckpointError`
        that lists the differences (:mod:`pinnkit.training.fingerprint`). ``strict=False`` is for deliberate
        transfer learning: it loads only the network's weights (and PDE parameters of the same names), and the
        optimizer, points, step count and history start afresh."""
        strict = check_bool(strict, "strict")
        state = load_checkpoint(path, map_location=self.device, kind=self.objective.kind)
        self.load_state_dict(state, source=str(path), strict=strict)

    def load_state_dict(self, state: Mapping[str, Any], source: str = "the state", strict: bool = True) -> None:
        """Resume from :meth:`state_dict` (see :meth:`load_state`)."""
        if state.get("kind") != self.objective.kind:
            raise CheckpointError(f"{source} holds a {state.get('kind')!r} state, not a {self.objective.kind!r} "
                                  "one")
        if not strict:
            self.objective.load_weights(dict(state), source)
            self._build_optimizer()
            self._finite, self._loss_now = FiniteState(), None
            return
        check_fingerprint(state, self.objective.fingerprint(), source)
        check_resume(state.get("ranks"), self.ranks, source)
        self.objective.load_state_dict(dict(state), source)
        name, saved = state["optimizer_name"], OptimizerChoice.from_plain(state.get("optimizer_choice"))
        if saved is not None and not saved.same_as(self._choice):  # rebuild it as it was
            self._choice = saved
            self._build_optimizer()
        elif name != self.optimizer_name:
            raise CheckpointError(f"{source} was written with the optimizer {name!r}, which this loop cannot "
                                  "rebuild by name; create it with the same optimizer= to resume")
        self.optimizer.load_state_dict(state["optimizer"])
        self._restored_from = source
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"]["cpu"].cpu())
        if state["torch_rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in state["torch_rng"]["cuda"]])
        self.step, self._elapsed = int(state["step"]), float(state["elapsed"])
        self.history = list(state["history"])
