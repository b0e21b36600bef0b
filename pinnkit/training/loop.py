"""The training loop: one implementation of ``fit`` for every objective pinnkit trains.

Each step evaluates the objective's named loss terms ``L_k`` (:mod:`pinnkit.training.objective`), forms

    L = sum_k w_k L_k                     (w_k the loop's ``loss_weights``, default 1)

and takes one optimizer step (:mod:`pinnkit.training.optimizers`): first-order (``L.backward()``, then
``optimizer.step()``), multi-loss (MultiAdam, ConFIG, M-ConFIG, PCGrad get the weighted terms ``w_k L_k`` and
do their own backward passes) or quasi-Newton (L-BFGS, BFGS, SSBFGS, SSBroyden through a closure, in chunks of
iterations with the objective held fixed for the line search). Around the steps it keeps the step count, the
time, a history of records (step, optimizer, loss, each term, learning rate, time and the objective's own
scalars), a tqdm progress bar, the callbacks of :mod:`pinnkit.callbacks`, and checkpoints of the whole state
(:meth:`TrainingLoop.save`, :meth:`TrainingLoop.load_state`).

Under data-parallel training (:mod:`pinnkit.distributed`) every rank runs this same loop in step: the gradients
are summed over the ranks (the objective's are rank shares, :attr:`Objective.sharded`) or averaged (every rank
evaluated the whole objective) before any optimizer sees them, the multi-loss optimizers sum each loss's
gradient, every loss value is global, so every rank takes the same step; rank 0 alone shows the progress bar and
writes checkpoints.

Non-finite training costs nothing (:mod:`pinnkit.training.rollback`): a NaN or infinite loss, a non-finite
gradient, or a NaN inside L-BFGS's line search restores the last state whose loss was evaluated finite
(parameters, optimizer, scheduler, points, step count, history) and raises :class:`NonFiniteLossError`; a
checkpoint is written only for a state whose loss is finite, and holds that loss.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from ..callbacks import Callback
from ..checks import (
    check_loss_weights,
    check_lr,
    check_non_negative_int,
    check_positive_int,
    check_scheduler,
)
from ..distributed.collectives import broadcast_tensors
from ..distributed.ranks import Ranks
from ..distributed.training import reduce_gradients, reduce_gradients_and_values, reduced
from ..errors import NonFiniteLossError
from .compiled_update import CompiledUpdate
from .fused_step import fused_step
from .loop_state import LoopState
from .objective import Evaluation, Objective
from .optimizers import (
    EVALUATIONS_PER_ITERATION,
    QUASI_NEWTON_CHUNK,
    OptimizerChoice,
    build_optimizer,
    check_optimizer_spec,
    check_options,
    quasi_newton_iterations,
    quasi_newton_stop_reason,
    step_kind,
    with_given_lr,
)
from .rollback import FiniteState, all_finite

#: The learning rate of a first-order optimizer named without ``lr``.
DEFAULT_LR = 1e-3


class TrainingLoop(LoopState):
    """Train an :class:`~pinnkit.training.Objective` (see the module docstring).

    Parameters
    ----------
    objective : Objective
    optimizer : str or callable
        A name of :data:`~pinnkit.training.optimizers.OPTIMIZERS` (``"adam"``, ``"adamw"``, ``"sgd"``,
        ``"rmsprop"``, ``"lbfgs"``, ``"bfgs"``, ``"ssbfgs"``, ``"ssbroyden"``, ``"multiadam"``, ``"config"``,
        ``"mconfig"``, ``"pcgrad"``, ``"soap"``) or a function ``params -> torch.optim.Optimizer``; switched per
        :meth:`fit`. BFGS, SSBFGS and SSBroyden keep a dense inverse Hessian (:mod:`pinnkit.optim.quasi_newton`):
        for small networks in float64.
    lr : float, optional
        Learning rate of a named first-order optimizer (default 1e-3); L-BFGS and the quasi-Newton methods take
        it as their step scale (default 1.0). A factory sets its own, so an ``lr`` beside one is a ``ValueError``
        (:func:`~pinnkit.training.optimizers.with_given_lr`).
    optimizer_options : mapping, optional
        Keyword arguments of a named optimizer.
    scheduler : callable, optional
        ``optimizer -> torch.optim.lr_scheduler.LRScheduler``, stepped once per first-order step.
    loss_weights : mapping term -> float, optional
        ``w_k`` (default 1); unknown names are an error.
    device : torch.device, optional
        Where the objective's tensors live (default: that of its first parameter).
    ranks : Ranks, optional
        The process group of data-parallel training (:func:`pinnkit.distributed.start`); None: one process.
    """

    #: ``log_every`` of :meth:`fit` when it is not given.
    default_log_every = 100
    #: Shown before the optimizer's name in the progress bar (None: the name alone).
    progress_label: str | None = None

    def __init__(self, objective: Objective, *, optimizer: str | Callable = "adam", lr: float | None = None,
                 optimizer_options: Mapping | None = None, scheduler: Callable | None = None,
                 loss_weights: Mapping[str, float] | None = None, device: torch.device | None = None,
                 ranks: Ranks | None = None):
        if not isinstance(objective, Objective):
            raise ValueError(f"objective must be a pinnkit.training.Objective; got {type(objective).__name__}")
        self.objective = objective
        params = objective.parameters()
        if not params:
            raise ValueError("nothing to train: there are no parameters that require gradients")
        self.device = torch.device(device) if device is not None else params[0].device
        if ranks is not None and not isinstance(ranks, Ranks):
            raise ValueError(f"ranks must be a pinnkit.distributed.Ranks; got {type(ranks).__name__}")
        #: The ranks of data-parallel training (None: one process).
        self.ranks = ranks if ranks is not None and ranks.world_size > 1 else None
        if self.ranks is not None:  # every rank starts from rank 0's parameters
            broadcast_tensors(params, self.ranks)
        self.loss_weights = check_loss_weights(loss_weights, objective.terms)
        if scheduler is not None and not callable(scheduler):
            raise ValueError(f"scheduler must be a function optimizer -> LRScheduler; got {type(scheduler).__name__}")
        self.lr, self.scheduler_factory = check_lr(DEFAULT_LR if lr is None else lr), scheduler
        spec, options = check_optimizer_spec(optimizer), check_options(optimizer_options)
        if lr is not None:
            options = with_given_lr(spec, self.lr, options)
        self._choice = OptimizerChoice(spec, self.lr, options)
        self._build_optimizer()
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self.stop_training, self.stop_reason = False, None
        self._elapsed = 0.0
        self._finite = FiniteState()
        self._loss_now: float | None = None  # the loss at the current parameters, when known
        self._restored_from: str | None = None  # the checkpoint whose optimizer state is loaded and not yet used

    # ------------------------------------------------------------------ optimizer
    def trainable_parameters(self) -> list[Tensor]:
        """The objective's tensors that require gradients (frozen ones, ``requires_grad=False``, are left out)."""
        return [p for p in self.objective.parameters() if p.requires_grad]

    def _build_optimizer(self) -> None:
        self.optimizer, self.optimizer_name = build_optimizer(self._choice, self.trainable_parameters(),
                                                              self.device)
        self.step_kind = step_kind(self.optimizer)
        # with a compiled objective, an Adam step's update and gradient check are one compiled graph too
        compiled = self.objective.compiled
        compiled_adam = (compiled is not None and self.step_kind == "first_order"
                         and CompiledUpdate.supports(self.optimizer))
        self._update = CompiledUpdate(self.optimizer, compiled) if compiled_adam else None
        # and where the objective's terms trace whole, the evaluation, gradient, checks and update are one graph
        # (Adam, AdamW, ConFIG around one, MultiAdam)
        self._fused = fused_step(self.optimizer, compiled) if (
            compiled is not None and self.ranks is None and self.objective.traces_whole) else None
        if self.step_kind == "multi_loss":
            self.optimizer.check_terms(self.objective.terms, self.objective.pde_terms)
            self.optimizer.compiled = compiled  # its update's arithmetic compiled with the objective (or not)
            if self.ranks is not None:
                self.optimizer.gradient_sum = self._summed
        self.scheduler = None
        if self.scheduler_factory is not None and self.step_kind != "quasi_newton":
            self.scheduler = check_scheduler(self.scheduler_factory(self.optimizer))

    def select_optimizer(self, optimizer: str | Callable | None = None, lr: float | None = None,
                         optimizer_options: Mapping | None = None) -> None:
        """Use ``optimizer`` (default: the current one) with ``lr`` (default: the current learning rate) and
        ``optimizer_options`` (default: none for a new optimizer, the current ones otherwise) from now on. Asking
        for exactly the current choice keeps the optimizer and its state (moments, L-BFGS history)."""
        if optimizer is None and lr is None and optimizer_options is None:
            return
        spec = self._choice.spec if optimizer is None else check_optimizer_spec(optimizer)
        same_kind = spec == self._choice.spec if isinstance(spec, str) else spec is self._choice.spec
        options = check_options(optimizer_options) if optimizer_options is not None else (
            dict(self._choice.options) if same_kind else {})
        if lr is not None:
            lr = check_lr(lr)
            options = with_given_lr(spec, lr, options)
        choice = OptimizerChoice(spec, self._choice.lr if lr is None else lr, options)
        if not choice.same_as(self._choice):
            if self._restored_from is not None:
                warnings.warn(
                    f"fit(optimizer={optimizer!r}, lr={lr!r}, optimizer_options={optimizer_options!r}) starts a new "
                    f"optimizer: the {self.optimizer_name} state restored from {self._restored_from} (its moments "
                    "or L-BFGS history) is not used. Leave optimizer, lr and optimizer_options unset to continue "
                    "with it.", stacklevel=3)
            self._choice = choice
            self._build_optimizer()

    # ------------------------------------------------------------------ ranks
    @property
    def is_main(self) -> bool:
        """Whether this process prints and writes files: rank 0, or the only process."""
        return self.ranks is None or self.ranks.is_main

    def _reduce_gradients(self) -> None:
        if self.ranks is not None:
            reduce_gradients(self.trainable_parameters(), self.ranks, self.objective.sharded)

    def _summed(self, grads: list[Tensor]) -> list[Tensor]:
        return reduced(grads, self.ranks, self.objective.sharded)

    # ------------------------------------------------------------------ training
    def fit(self, steps: int, *, optimizer: str | Callable | None = None, lr: float | None = None,
            optimizer_options: Mapping | None = None, callbacks: Sequence[Callback] = (),
            log_every: int | None = None, progress: bool = True) -> list[dict[str, Any]]:
        """Run ``steps`` optimizer steps (quasi-Newton: iterations); returns the history.

        ``optimizer``, ``lr`` and ``optimizer_options`` switch the optimizer from here on (e.g. ``"lbfgs"`` after
        Adam, or ``"bfgs"``, ``"ssbfgs"``, ``"ssbroyden"``; see :meth:`select_optimizer`). A non-finite loss
        raises :class:`NonFiniteLossError`. A history record is written every ``log_every`` steps (default
        :attr:`default_log_every`) and at the end.

        **Quasi-Newton runs** (L-BFGS, BFGS, SSBFGS, SSBroyden; :mod:`pinnkit.training.optimizers` has the details):
        ``steps`` counts iterations, in chunks of 25 with the objective held fixed inside each; ``lr=1``, a
        strong-Wolfe line search, L-BFGS ``history_size=50`` and **no tolerance stops** unless
        ``optimizer_options`` say otherwise. Set the stopping rule there: ``{"tolerance_grad": g}`` stops once
        ``max |gradient| <= g``, ``{"tolerance_change": c}`` once an iteration changes the loss or the parameters
        by less than ``c``; :attr:`stop_reason` says which rule ended the run.
        """
        steps = check_non_negative_int(steps, "steps")
        log_every = check_positive_int(self.default_log_every if log_every is None else log_every, "log_every")
        callbacks = tuple(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise ValueError(f"callbacks must be pinnkit Callbacks; got {type(cb).__name__}")
        self.select_optimizer(optimizer, lr, optimizer_options)
        self._restored_from = None  # the restored optimizer (if any) is now in use
        self.stop_training, self.stop_reason = False, None
        for cb in callbacks:  # before the progress bar: a callback may refuse to start (an unwritable path)
            cb.on_fit_start(self)
        label = self.optimizer_name if self.progress_label is None else f"{self.progress_label} ({self.optimizer_name})"
        bar = _progress_bar(steps, label, progress and self.is_main)
        end = self.step + steps
        try:
            if self.step_kind == "quasi_newton":
                self._fit_quasi_newton(end, callbacks, log_every, bar)
            else:
                self._fit_steps(end, callbacks, log_every, bar)
        finally:
            if not self.history or self.history[-1]["step"] != self.step:
                self._log(callbacks, bar)
            if bar is not None:
                bar.close()
            for cb in callbacks:
                cb.on_fit_end(self)
        return self.history

    def _weighted(self, terms: dict[str, Tensor]) -> dict[str, Tensor]:
        return {k: self.loss_weights[k] * v for k, v in terms.items()}

    def _fit_steps(self, end: int, callbacks, log_every: int, bar) -> None:
        """First-order and multi-loss steps."""
        multi_loss = self.step_kind == "multi_loss"
        while self.step < end and not self.stop_training:
            start = time.perf_counter()
            if self._fused is not None and self._fused_step(start, callbacks, bar, log_every):
                continue
            self.optimizer.zero_grad(set_to_none=True)
            # a sharded first-order step: the backward pass on this rank's shares, then one all-reduce of the
            # gradients and the loss values together (Objective.evaluate_shares), before any check or update
            if self.ranks is not None and not multi_loss:
                evaluation = self.objective.evaluate_shares(self.step)
            else:
                evaluation = self.objective.evaluate(self.step)
            on_shares = evaluation.shares
            if on_shares:
                sum(self._weighted(evaluation.terms).values()).backward()
                evaluation = Evaluation(reduce_gradients_and_values(self.trainable_parameters(), evaluation.terms,
                                                                    self.ranks), evaluation.details)
            weighted = self._weighted(evaluation.terms)
            total = sum(weighted.values())
            value = total.item()
            if not math.isfinite(value):
                raise self._roll_back(evaluation.terms, "loss")
            self._finite.take(self)  # this state's loss is finite: the one to come back to
            if multi_loss:  # it balances the terms and does its own backward pass(es)
                self.optimizer.step_losses(weighted, self.objective.pde_terms)
                if not all_finite(self.trainable_parameters()):
                    raise self._roll_back(evaluation.terms, "update")
            else:
                if not on_shares:
                    total.backward()
                    self._reduce_gradients()
                if self._update is not None and CompiledUpdate.supports(self.optimizer):
                    if not self._update():  # it refused a non-finite gradient and changed nothing
                        raise self._roll_back(evaluation.terms, "gradient")
                else:
                    if not all_finite([p.grad for p in self.trainable_parameters() if p.grad is not None]):
                        raise self._roll_back(evaluation.terms, "gradient")
                    self.optimizer.step()
            self._loss_now = None
            if self.scheduler is not None:
                self.scheduler.step()
            self.objective.after_step(self.step, evaluation)
            self._end_step(start, value, evaluation.terms, callbacks, bar, log_every)

    def _fused_step(self, start: float, callbacks, bar, log_every: int) -> bool:
        """One step as one compiled graph (:mod:`pinnkit.training.fused_step`); ``False`` (nothing done) where
        the objective or the optimizer's state does not allow it."""
        if not self._fused.supports(self.optimizer):  # a hook added since the optimizer was built
            return False
        weights = tuple((k, float(self.loss_weights[k])) for k in self.objective.terms)
        result = self._fused(self.objective, self.step, weights)
        if result is None:
            return False
        if not result.finite:  # nothing changed: back to the last finite state, before the previous step
            raise self._roll_back(result.terms, "loss")
        self._finite.take_moving(self, self._fused.restore)  # the graph kept this state's tensors
        if not result.ok:  # the update was refused: this state, as it was
            raise self._roll_back(result.terms, "update" if self.step_kind == "multi_loss" else "gradient")
        self._loss_now = None
        if self.scheduler is not None:
            self.scheduler.step()
        evaluation = Evaluation(result.terms, result.details)
        self.objective.after_step(self.step, evaluation)
        self._end_step(start, result.loss, result.terms, callbacks, bar, log_every)
        return True

    def _end_step(self, start: float, value: float, terms: dict[str, Tensor], callbacks, bar, log_every: int) -> None:
        self.step += 1
        self._elapsed += time.perf_counter() - start
        if bar is not None:
            bar.update(1)
        for cb in callbacks:
            cb.on_step_end(self, self.step, value)
        if self.step % log_every == 0:
            self._log(callbacks, bar, terms)

    def _fit_quasi_newton(self, end: int, callbacks, log_every: int, bar) -> None:
        group = self.optimizer.param_groups[0]
        last: dict[str, Any] = {}

        def closure():
            self.optimizer.zero_grad(set_to_none=True)
            evaluation = self.objective.evaluate(self.step)
            total = sum(self._weighted(evaluation.terms).values())
            last.update(evaluation=evaluation, total=total.detach())
            if torch.isfinite(total):
                total.backward()
                self._reduce_gradients()
            return total

        while self.step < end and not self.stop_training:
            start = time.perf_counter()
            chunk = min(QUASI_NEWTON_CHUNK, end - self.step)
            group["max_iter"], group["max_eval"] = chunk, EVALUATIONS_PER_ITERATION * chunk
            n_before = quasi_newton_iterations(self.optimizer)
            self._finite.take(self)  # the chunk's start: finite (the last chunk ended finite)
            self.objective.hold(True)  # one objective function for the chunk's line searches
            try:
                self.optimizer.step(closure)
            except (IndexError, RuntimeError) as err:  # torch's L-BFGS line search can fail on a non-finite evaluation
                if last and not bool(torch.isfinite(last["total"])):
                    raise self._roll_back(last["evaluation"].terms, "loss in the line search") from err
                raise
            finally:
                self.objective.hold(False)
            self._loss_now = None
            done = max(quasi_newton_iterations(self.optimizer) - n_before, 0)
            if not bool(torch.isfinite(last["total"])) or not all_finite(self.trainable_parameters()):
                raise self._roll_back(last["evaluation"].terms, "loss")
            self.objective.after_step(self.step, last["evaluation"])
            self.step += done
            self._elapsed += time.perf_counter() - start
            if bar is not None:
                bar.update(done)
            for cb in callbacks:
                cb.on_step_end(self, self.step, float(last["total"]))
            if done < chunk:
                self.stop_training = True
                self.stop_reason = quasi_newton_stop_reason(self.optimizer, self.optimizer_name, done)
            if self.step // log_every != (self.step - done) // log_every or self.stop_training:
                self._log(callbacks, bar, last["evaluation"].terms)

    def _roll_back(self, terms: dict[str, Tensor], what: str) -> NonFiniteLossError:
        """Go back to the last finite state; the error to raise, saying what was not finite and where it stands."""
        at = self.step
        values = ", ".join(f"{k}={float(v.detach()):.3g}" for k, v in terms.items())
        self._finite.restore(self)
        self._loss_now = None
        return NonFiniteLossError(
            f"the {what} at the parameters after step {at} is not finite ({values}); training stopped and went "
            f"back to the last state whose loss was finite, after step {self.step}. Try a smaller learning rate "
            "or dtype=torch.float64.")

    def record_keys(self) -> set[str]:
        """The entries of a history record (the loop's, the terms and the objective's :meth:`~Objective.record`)."""
        with torch.no_grad():
            extra = self.objective.record()
        return {"step", "optimizer", "loss", "lr", "time", *self.objective.terms, *extra}

    def _log(self, callbacks, bar, terms: dict[str, Tensor] | None = None) -> dict[str, Any]:
        current = terms is None
        if current:
            with torch.enable_grad():
                terms = self.objective.evaluate_for_log(self.step).terms
        values = {k: float(v.detach()) for k, v in terms.items()}
        record: dict[str, Any] = {"step": self.step, "optimizer": self.optimizer_name,
                                  "loss": sum(self.loss_weights[k] * v for k, v in values.items()), **values,
                                  "lr": float(self.optimizer.param_groups[0]["lr"]), "time": self._elapsed}
        if current:
            self._loss_now = record["loss"]
        record.update(self.objective.record())
        self.history.append(record)
        if bar is not None:
            post = {"loss": f"{record['loss']:.2e}", **{k: f"{v:.1e}" for k, v in values.items()}}
            if "l2_relative_error" in record:
                post["L2"] = f"{record['l2_relative_error']:.2e}"
            bar.set_postfix(post, refresh=False)
        for cb in callbacks:
            cb.on_log(self, record)
        return record

    # ------------------------------------------------------------------ checkpoints
    def current_loss(self) -> float:
        """The loss ``sum_k w_k L_k`` at the current parameters (evaluated if not known yet; NaN if any parameter
        is not finite)."""
        if not all_finite(self.trainable_parameters()):
            return math.nan
        if self._loss_now is None:
            with torch.enable_grad():
                terms = self.objective.evaluate_for_log(self.step).terms
            self._loss_now = sum(self.loss_weights[k] * float(v.detach()) for k, v in terms.items())
        return self._loss_now


def _progress_bar(total: int, name: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=name, unit="step", dynamic_ncols=True, leave=True)

