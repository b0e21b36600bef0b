"""The optimisation loop shared by the fitting classes of :mod:`pinnkit.dynamics`.

A fit names its loss terms (:meth:`FitLoop.losses` returns them; the loss is their sum) and its trainable
tensors; the loop does the rest as the :class:`~pinnkit.Trainer` does: Adam or any first-order
``torch.optim`` optimizer, or L-BFGS through a closure, a tqdm progress bar, a history of records
``{"step", "optimizer", "loss", <terms>, "lr", "time", <parameters>}`` that :func:`pinnkit.plotting.plot_history`
draws, the Trainer's callbacks (:class:`~pinnkit.Checkpoint`, :class:`~pinnkit.EarlyStopping`), and atomic
checkpoints of the full state.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ..callbacks import Callback
from ..checkpoint import load_checkpoint, save_atomic
from ..trainer import LBFGS_CHUNK, LBFGS_DEFAULTS, NonFiniteLossError, StepBookkeeping, _progress_bar

FIRST_ORDER = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
               "rmsprop": torch.optim.RMSprop}


class FitLoop(StepBookkeeping):
    """Base of the fits: subclasses set :attr:`module` (whose parameters are trained), may add tensors to
    :attr:`extra` (trainable tensors outside the module, e.g. initial states), and implement :meth:`losses`."""

    kind = "fit"

    def __init__(self, module: nn.Module):
        self.module = module
        self.extra: dict[str, Tensor] = {}
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self.stop_training = False
        self.stop_reason: str | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.optimizer_name: str | None = None
        self._optimizer_spec: Any = None
        self._lr: float | None = None
        self._elapsed = 0.0

    # ---------------------------------------------------------------- to implement
    def losses(self) -> dict[str, Tensor]:
        """The named loss terms of the current parameters (scalars); the loss is their sum."""
        raise NotImplementedError

    def parameter_values(self) -> dict[str, float]:
        """Scalar parameters recorded in the history (e.g. physical parameters)."""
        return {}

    # ---------------------------------------------------------------- training
    def trainable_parameters(self) -> list[Tensor]:
        """The module's parameters that require gradients, then the extra tensors."""
        return [p for p in self.module.parameters() if p.requires_grad] + list(self.extra.values())

    def loss(self) -> Tensor:
        """The total loss (the sum of :meth:`losses`)."""
        return sum(self.losses().values())

    def fit(self, steps: int, *, optimizer: str | Callable = "adam", lr: float = 1e-3, log_every: int = 50,
            progress: bool = True, callbacks: Sequence[Callback] = ()) -> list[dict[str, Any]]:
        """Run ``steps`` optimisation steps (L-BFGS: iterations); returns the history.

        ``optimizer`` is ``"adam"``, ``"adamw"``, ``"sgd"``, ``"rmsprop"``, ``"lbfgs"`` or a function
        ``params -> torch.optim.Optimizer``; its state carries over between fits with the same optimizer.
        """
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be a non-negative integer; got {steps!r}")
        if isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 1:
            raise ValueError(f"log_every must be a positive integer; got {log_every!r}")
        self._set_optimizer(optimizer, lr)
        self.stop_training, self.stop_reason = False, None
        end = self.step + steps
        bar = _progress_bar(steps, f"{self.kind} ({self.optimizer_name})", progress)
        for cb in callbacks:
            cb.on_fit_start(self)
        try:
            if self.optimizer_name == "lbfgs":
                self._fit_lbfgs(end, callbacks, log_every, bar)
            else:
                self._fit_first_order(end, callbacks, log_every, bar)
            if not self.history or self.history[-1]["step"] != self.step:
                self._log(callbacks, bar)
        finally:
            if bar is not None:
                bar.close()
        for cb in callbacks:
            cb.on_fit_end(self)
        return self.history

    def _set_optimizer(self, spec, lr: float) -> None:
        name = spec if isinstance(spec, str) else getattr(spec, "__name__", type(spec).__name__)
        if self.optimizer is not None and spec == self._optimizer_spec and lr == self._lr:
            return
        params = self.trainable_parameters()
        if not params:
            raise ValueError("nothing to train: the fit has no parameters that require gradients")
        if spec == "lbfgs":
            self.optimizer = torch.optim.LBFGS(params, **{**LBFGS_DEFAULTS, "max_iter": LBFGS_CHUNK})
        elif isinstance(spec, str):
            if spec not in FIRST_ORDER:
                raise ValueError(f"optimizer must be one of {sorted([*FIRST_ORDER, 'lbfgs'])} or a function "
                                 f"params -> Optimizer; got {spec!r}")
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
                raise ValueError(f"lr must be a positive number; got {lr!r}")
            self.optimizer = FIRST_ORDER[spec](params, lr=lr)
        elif callable(spec):
            self.optimizer = spec(params)
        else:
            raise ValueError(f"optimizer must be a name or a function params -> Optimizer; got {spec!r}")
        self.optimizer_name, self._optimizer_spec, self._lr = name, spec, lr

    def _non_finite(self, terms: dict[str, Tensor]) -> NonFiniteLossError:
        values = {k: float(v.detach()) for k, v in terms.items()}
        return NonFiniteLossError(f"the loss is not finite at step {self.step}: {values}")

    def _fit_first_order(self, end, callbacks, log_every, bar) -> None:
        while self.step < end and not self.stop_training:
            start = time.perf_counter()
            self.optimizer.zero_grad(set_to_none=True)
            terms = self.losses()
            total = sum(terms.values())
            value = float(total.detach())
            if not math.isfinite(value):
                raise self._non_finite(terms)
            total.backward()
            self.optimizer.step()
            self._end_step(start, value, terms, callbacks, bar, log_every)

    def _fit_lbfgs(self, end, callbacks, log_every, bar) -> None:
        group = self.optimizer.param_groups[0]
        last: dict[str, Any] = {}

        def closure():
            self.optimizer.zero_grad(set_to_none=True)
            terms = self.losses()
            total = sum(terms.values())
            last["terms"] = {k: v.detach() for k, v in terms.items()}
            if torch.isfinite(total):
                total.backward()
            return total

        while self.step < end and not self.stop_training:
            start = time.perf_counter()
            state = self.optimizer.state[group["params"][0]]
            before = state.get("n_iter", 0)
            chunk = min(LBFGS_CHUNK, end - self.step)
            group["max_iter"], group["max_eval"] = chunk, 25 * chunk  # the line search may need many evaluations
            saved = [p.detach().clone() for p in self.trainable_parameters()]
            loss = self.optimizer.step(closure)
            done = state.get("n_iter", 0) - before
            self._elapsed += time.perf_counter() - start
            if not torch.isfinite(loss) or not all(torch.isfinite(p).all() for p in self.trainable_parameters()):
                with torch.no_grad():  # keep the last finite parameters
                    for p, b in zip(self.trainable_parameters(), saved, strict=True):
                        p.copy_(b)
                raise self._non_finite(last["terms"])
            self.step += max(done, 0)
            if bar is not None:
                bar.update(max(done, 0))
            for cb in callbacks:
                cb.on_step_end(self, self.step, float(loss))
            if done < chunk:
                self.stop_training = True
                self.stop_reason = f"L-BFGS stopped after {done} iterations of its last chunk of {chunk}: no " \
                                   "further descent (loss or step change at the tolerance)"
            if self.step // log_every != (self.step - done) // log_every or self.stop_training:
                self._log(callbacks, bar, last["terms"])

    def _log(self, callbacks, bar, terms: dict[str, Tensor] | None = None) -> dict[str, Any]:
        if terms is None:
            with torch.no_grad():
                terms = self.losses()
        values = {k: float(v.detach()) for k, v in terms.items()}
        record: dict[str, Any] = {"step": self.step, "optimizer": self.optimizer_name or "none",
                                  "loss": sum(values.values()), **values}
        if self.optimizer is not None:
            record["lr"] = float(self.optimizer.param_groups[0]["lr"])
        record["time"] = self._elapsed
        record.update(self.parameter_values())
        self.history.append(record)
        if bar is not None:
            bar.set_postfix({"loss": f"{record['loss']:.2e}"}, refresh=False)
        for cb in callbacks:
            cb.on_log(self, record)
        return record

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        """The module's state, the extra tensors, step and history (plain data for a weights-only load)."""
        return {"kind": self.kind, "module": self.module.state_dict(),
                "extra": {k: v.detach().clone() for k, v in self.extra.items()},
                "step": self.step, "history": self.history}

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`state_dict` to ``path`` atomically (:mod:`pinnkit.checkpoint`)."""
        save_atomic(self.state_dict(), path)

    def load_state(self, path: str | os.PathLike) -> None:
        """Restore a state written by :meth:`save` into this fit (same module architecture)."""
        state = load_checkpoint(path)
        if state.get("kind") != self.kind:
            raise ValueError(f"{path} holds a {state.get('kind')!r} state, not a {self.kind!r} one")
        self.module.load_state_dict(state["module"])
        if set(state["extra"]) != set(self.extra):
            raise ValueError(f"{path} has extra tensors {sorted(state['extra'])}; this fit has {sorted(self.extra)}")
        with torch.no_grad():
            for k, v in state["extra"].items():
                self.extra[k].copy_(v)
        self.step, self.history = int(state["step"]), list(state["history"])
