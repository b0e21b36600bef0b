"""The training loop: points from the sampler, residuals from the problem, an update from the optimizer.

The loss is a weighted sum of named terms, each the mean square of a per-point residual:
``L = sum_k w_k mean_i (r_k,i)^2`` (PDE terms weighted per point by the sampler's weights, if any). The
trainer owns nothing else: device and dtype, steps, the learning-rate schedule, callbacks, a progress bar,
the history, metrics against a reference, checkpoints.
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .callbacks import Callback
from .checkpoint import load_checkpoint, save_atomic
from .metrics import l2_relative_error
from .nets.taylor_mode import mlp_jet
from .optim import ConFIG, MConFIG, MultiAdam, MultiLossOptimizer, PCGrad
from .pde.jet_derivatives import check_jet_net, network_jet
from .pde.problem import Batch, Problem, check_backend
from .sampling import FixedPoints, Sampler

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
              "rmsprop": torch.optim.RMSprop, "lbfgs": torch.optim.LBFGS,
              "multiadam": MultiAdam, "config": ConFIG, "mconfig": MConFIG, "pcgrad": PCGrad}
LBFGS_DEFAULTS = {"lr": 1.0, "history_size": 50, "line_search_fn": "strong_wolfe", "tolerance_grad": 0.0,
                  "tolerance_change": 0.0}
LBFGS_CHUNK = 25  # L-BFGS iterations per optimizer.step call: progress and checks between chunks


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the network keeps the parameters of the last finite step."""


def check_compile(compile: object, backend: str) -> bool:
    """``compile`` if it is a bool that ``backend`` allows (``True`` needs ``"taylor"``: only a forward jet pass
    can go through ``torch.compile``), else a ``ValueError``."""
    if not isinstance(compile, bool):
        raise ValueError(f"compile must be True or False; got {compile!r}")
    if compile and backend != "taylor":
        raise ValueError(f"compile=True needs backend='taylor' (reverse-mode derivative graphs cannot be "
                         f"compiled); got backend={backend!r}")
    return compile


class StepBookkeeping:
    """What a training loop (:class:`Trainer`, :class:`~pinnkit.OperatorTrainer`,
    :class:`~pinnkit.dynamics.FitLoop`) does after each first-order optimizer step; the loop provides ``step``,
    ``_elapsed`` and ``_log(callbacks, bar, terms)``."""

    step: int
    _elapsed: float

    def _log(self, callbacks, bar, terms) -> dict[str, Any]:
        raise NotImplementedError

    def _end_step(self, start: float, value: float, terms: dict[str, Tensor], callbacks: Sequence[Callback], bar,
                  log_every: int) -> None:
        """Count the step and its time since ``start`` (``time.perf_counter()``), advance the progress bar, give the
        callbacks the step's loss ``value``, and log the loss ``terms`` every ``log_every`` steps."""
        self.step += 1
        self._elapsed += time.perf_counter() - start
        if bar is not None:
            bar.update(1)
        for cb in callbacks:
            cb.on_step_end(self, self.step, value)
        if self.step % log_every == 0:
            self._log(callbacks, bar, terms)


class Trainer(StepBookkeeping):
    """Fit ``net`` to ``problem``.

    Parameters
    ----------
    problem : Problem
    net : nn.Module
        Maps points ``(N, d)`` in the problem's coordinate order to outputs ``(N, k)``.
    sampler : Sampler, optional
        Collocation points of the PDE terms; default ``FixedPoints(2000, "sobol")``.
    optimizer : str or callable
        ``"adam"``, ``"adamw"``, ``"sgd"``, ``"rmsprop"``, ``"lbfgs"``, the multi-loss optimizers of
        :mod:`pinnkit.optim` (``"multiadam"``, ``"config"``, ``"mconfig"``, ``"pcgrad"``), or a function
        ``params -> Optimizer`` (e.g. ``functools.partial(torch.optim.Adam, betas=(0.9, 0.99))`` or a spec such as
        ``pk.optim.ConFIG("adam", lr=1e-3)``). Can be switched per :meth:`fit`. A multi-loss optimizer gets the
        named, weighted loss terms of each step instead of their sum.
    lr : float
        Learning rate for named optimizers (L-BFGS uses 1.0 unless ``optimizer_options`` says otherwise; a
        spec carries its own).
    scheduler : callable, optional
        ``optimizer -> torch.optim.lr_scheduler.LRScheduler``, stepped once per step.
    backend : str
        Derivative engine: ``"autograd"`` (reverse mode, any network), ``"zcs"`` (zero coordinate shift) or
        ``"taylor"`` (a forward jet pass; pinnkit's :class:`~pinnkit.nets.MLP`, or a
        :class:`~pinnkit.nets.HardConstraint` around one, see :mod:`pinnkit.pde.jet_derivatives`).
    compile : bool
        ``backend="taylor"`` only: run the MLP's jet pass through ``torch.compile`` (a one-off compilation of
        some seconds per point-set size, then fused kernels; worthwhile for long runs).
    device, dtype
        Where and in which precision to train; the net and PDE parameters are moved there.
    loss_weights : mapping term -> float, optional
        Weights ``w_k`` of the loss terms (default 1); unknown names are an error.
    seed : int
        Seeds the sampling of collocation and condition points (the net's initialisation is the caller's).
    reference : (points, values), optional
        Reference solution; its relative L2 error is recorded as ``l2_relative_error`` in the history.
    """

    def __init__(self, problem: Problem, net: nn.Module, *, sampler: Sampler | None = None,
                 optimizer: str | Callable = "adam", lr: float = 1e-3, optimizer_options: Mapping | None = None,
                 scheduler: Callable | None = None, backend: str = "autograd",
                 device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                 loss_weights: Mapping[str, float] | None = None, seed: int = 0,
                 reference: tuple[Any, Any] | None = None, compile: bool = False):
        if not isinstance(problem, Problem):
            raise ValueError(f"problem must be a pinnkit Problem; got {type(problem).__name__}")
        if not isinstance(net, nn.Module):
            raise ValueError(f"net must be a torch.nn.Module; got {type(net).__name__}")
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise ValueError(f"dtype must be a floating torch dtype (torch.float32, torch.float64); got {dtype!r}")
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={device!r}: CUDA is not available on this machine")
        if not (isinstance(lr, (int, float)) and lr > 0):
            raise ValueError(f"lr must be a positive number; got {lr!r}")
        self.problem, self.net, self.dtype = problem, net.to(device=self.device, dtype=dtype), dtype
        problem.parameters.to(device=self.device, dtype=dtype)
        problem.check_net(self.net, dtype, self.device)
        self.backend = check_backend(backend)
        if self.backend == "taylor":
            check_jet_net(self.net, "net (backend='taylor')")
        self.compile = check_compile(compile, self.backend)
        self._jet = functools.partial(network_jet, mlp=torch.compile(mlp_jet, dynamic=False)) if compile else None
        self.loss_weights = {k: 1.0 for k in problem.terms}
        for key, value in (loss_weights or {}).items():
            if key not in self.loss_weights:
                raise ValueError(f"loss_weights: unknown term {key!r}; the problem's terms are {problem.terms}")
            self.loss_weights[key] = float(value)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
        self.seed = seed
        self.rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
        self.sampler = sampler if sampler is not None else FixedPoints(2000, "sobol")
        if not isinstance(self.sampler, Sampler):
            raise ValueError(f"sampler must be a pinnkit Sampler; got {type(self.sampler).__name__}")
        self._condition_terms = tuple(c.name for c in problem.conditions)
        self._initial_terms = tuple(c.name for c in problem.conditions if c.kind == "initial")
        self.sampler.setup(problem.domain, self.rng, dtype, self.device,
                           residual=lambda points: problem.pde_residual(self.net, points, self.backend,
                                                                            jet=self._jet))
        self.condition_points = problem.sample_conditions(seed)
        self.reference = None if reference is None else self._reference(reference)
        self.lr, self.scheduler_factory = float(lr), scheduler
        self._set_optimizer(optimizer, optimizer_options)
        self.step = 0
        self.history: list[dict[str, Any]] = []
        self.stop_training, self.stop_reason = False, None
        self._batch: Batch | None = None
        self._batch_points: Tensor | None = None
        self._elapsed = 0.0

    # ------------------------------------------------------------------ set-up
    def _reference(self, reference) -> tuple[Tensor, np.ndarray]:
        points, values = reference
        x = torch.as_tensor(np.asarray(points), dtype=self.dtype, device=self.device)
        y = np.asarray(values, dtype=np.float64).reshape(len(x), -1)
        if x.ndim != 2 or x.shape[1] != self.problem.domain.dim or y.shape[1] != len(self.problem.outputs):
            raise ValueError(f"reference must be (points (N, {self.problem.domain.dim}), values (N, "
                             f"{len(self.problem.outputs)})); got {tuple(x.shape)} and {y.shape}")
        return x, y

    def trainable_parameters(self) -> list[Tensor]:
        """The network's parameters followed by the problem's PDE parameters."""
        return list(self.net.parameters()) + list(self.problem.parameters.values())

    def _set_optimizer(self, spec, options: Mapping | None = None) -> None:
        params = self.trainable_parameters()
        options = dict(options or {})
        if isinstance(spec, str):
            key = spec.lower()
            if key not in OPTIMIZERS:
                raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or a function params -> optimizer; "
                                 f"got {spec!r}")
            if key == "lbfgs":
                options = {**LBFGS_DEFAULTS, **options}
            else:
                options.setdefault("lr", self.lr)
            if key in ("adam", "adamw") and self.device.type in ("cpu", "cuda"):
                # one fused kernel over all parameters: the updates of the per-tensor loop to round-off, in a
                # fraction of its time (it is a noticeable share of a small network's step)
                options.setdefault("fused", True)
            self.optimizer = OPTIMIZERS[key](params, **options)
            self.optimizer_name = key
        elif callable(spec):
            self.optimizer = spec(params)
            if not isinstance(self.optimizer, torch.optim.Optimizer):
                raise ValueError(f"the optimizer factory must return a torch.optim.Optimizer; got "
                                 f"{type(self.optimizer).__name__}")
            self.optimizer_name = type(self.optimizer).__name__.lower()
        else:
            raise ValueError(f"optimizer must be a name or a function params -> optimizer; got {type(spec).__name__}")
        if isinstance(self.optimizer, MultiLossOptimizer):
            self.optimizer.check_terms(self.problem.terms, self.problem.pde_terms)
        self.is_lbfgs = isinstance(self.optimizer, torch.optim.LBFGS)
        self.scheduler = None
        if self.scheduler_factory is not None and not self.is_lbfgs:
            self.scheduler = self.scheduler_factory(self.optimizer)

    # ------------------------------------------------------------------ the loss
    def _current_batch(self) -> tuple[Batch, Tensor | None]:
        points, weights = self.sampler.points(self.step)
        if self._batch is None:
            self._batch = self.problem.batch(points, self.condition_points, dtype=self.dtype, device=self.device)
        elif points is not self._batch_points:  # the sampler moved its points: keep the conditions' part
            self._batch = self.problem.batch(points, reuse=self._batch)
        self._batch_points = points
        return self._batch, weights

    def losses(self) -> tuple[Tensor, dict[str, Tensor], dict[str, Tensor]]:
        """``(total loss, loss per term, per-point residuals)`` at the current points (with graph)."""
        batch, weights = self._current_batch()
        residuals = self.problem.residuals(self.net, batch, self.backend, jet=self._jet)
        terms = {name: residuals[name].square().mean() for name in self._condition_terms}
        initial = sum((self.loss_weights[k] * terms[k].detach() for k in self._initial_terms),
                      torch.zeros((), dtype=self.dtype, device=self.device))
        own = self.sampler.residual_weights(self._pde_residual(residuals), initial)
        if own is not None:
            weights = own if weights is None else weights * own
        for name in self.problem.pde_terms:
            sq = residuals[name].square()
            if weights is not None:
                sq = sq * (weights if sq.ndim == 1 else weights[:, None])
            terms[name] = sq.mean()
        terms = {name: terms[name] for name in self.problem.terms}
        total = sum(self.loss_weights[k] * v for k, v in terms.items())
        return total, terms, residuals

    def _pde_residual(self, residuals: dict[str, Tensor]) -> Tensor:
        pde = [residuals[k].detach() for k in self.problem.pde_terms]
        return pde[0] if len(pde) == 1 else torch.stack(pde, dim=-1)

    def _non_finite(self, terms: dict[str, Tensor]) -> NonFiniteLossError:
        values = ", ".join(f"{k}={float(v.detach()):.3g}" for k, v in terms.items())
        return NonFiniteLossError(
            f"the loss became non-finite at step {self.step + 1} ({values}); training stopped and the network "
            f"keeps the parameters of step {self.step}. Try a smaller learning rate or dtype=torch.float64.")

    # ------------------------------------------------------------------ training
    def fit(self, steps: int, *, optimizer: str | Callable | None = None, optimizer_options: Mapping | None = None,
            callbacks: Sequence[Callback] = (), log_every: int = 100, progress: bool = True) -> list[dict]:
        """Run ``steps`` optimisation steps (L-BFGS: iterations); returns the history.

        ``optimizer`` switches the optimizer from here on (e.g. ``"lbfgs"`` after Adam). L-BFGS runs in chunks
        of iterations and stops early only when it can make no more progress, saying why in
        :attr:`stop_reason` (and the progress bar). A non-finite loss raises :class:`NonFiniteLossError` with
        the network left at its last finite parameters.
        """
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be a non-negative integer; got {steps!r}")
        if not isinstance(log_every, int) or log_every < 1:
            raise ValueError(f"log_every must be a positive integer; got {log_every!r}")
        if optimizer is not None or optimizer_options is not None:
            self._set_optimizer(optimizer if optimizer is not None else self.optimizer_name, optimizer_options)
        self.stop_training, self.stop_reason = False, None
        bar = _progress_bar(steps, self.optimizer_name, progress)
        for cb in callbacks:
            cb.on_fit_start(self)
        end = self.step + steps
        try:
            if self.is_lbfgs:
                self._fit_lbfgs(end, callbacks, log_every, bar)
            else:
                self._fit_first_order(end, callbacks, log_every, bar)
        finally:
            if not self.history or self.history[-1]["step"] != self.step:
                self._log(callbacks, bar)
            if bar is not None:
                bar.close()
            for cb in callbacks:
                cb.on_fit_end(self)
        return self.history

    def _fit_first_order(self, end, callbacks, log_every, bar) -> None:
        while self.step < end and not self.stop_training:
            start = time.perf_counter()
            self.optimizer.zero_grad(set_to_none=True)
            total, terms, residuals = self.losses()
            value = total.item()
            if not math.isfinite(value):
                raise self._non_finite(terms)
            if isinstance(self.optimizer, MultiLossOptimizer):  # it balances the terms and does its own backward
                self.optimizer.step_losses({k: self.loss_weights[k] * v for k, v in terms.items()},
                                           self.problem.pde_terms)
            else:
                total.backward()
                self.optimizer.step()
            if self.scheduler is not None:
                self.scheduler.step()
            self.sampler.update(self.step, self._pde_residual(residuals))
            self._end_step(start, value, terms, callbacks, bar, log_every)

    def _fit_lbfgs(self, end, callbacks, log_every, bar) -> None:
        state = self.optimizer.state[self.optimizer.param_groups[0]["params"][0]]
        group = self.optimizer.param_groups[0]
        last: dict[str, Any] = {}

        def closure():
            self.optimizer.zero_grad(set_to_none=True)
            total, terms, residuals = self.losses()
            last.update(total=total.detach(), terms={k: v.detach() for k, v in terms.items()},
                        residuals=residuals)
            if torch.isfinite(total):
                total.backward()
            return total

        while self.step < end and not self.stop_training:
            start = time.perf_counter()
            chunk = min(LBFGS_CHUNK, end - self.step)
            group["max_iter"], group["max_eval"] = chunk, 25 * chunk
            before = [p.detach().clone() for p in self.trainable_parameters()]
            n_before = state.get("n_iter", 0)
            self.sampler.hold_weights(True)  # one objective per chunk for the line search
            try:
                self.optimizer.step(closure)
            finally:
                self.sampler.hold_weights(False)
            done = state.get("n_iter", 0) - n_before
            finite = bool(torch.isfinite(last["total"])) and all(
                torch.isfinite(p).all() for p in self.trainable_parameters())
            if not finite:
                with torch.no_grad():
                    for p, b in zip(self.trainable_parameters(), before, strict=True):
                        p.copy_(b)
                raise self._non_finite(last["terms"])
            self.sampler.update(self.step, self._pde_residual(last["residuals"]))
            self.step += max(done, 0)
            self._elapsed += time.perf_counter() - start
            if bar is not None:
                bar.update(max(done, 0))
            for cb in callbacks:
                cb.on_step_end(self, self.step, float(last["total"]))
            if done < chunk:
                self.stop_training = True
                self.stop_reason = self._lbfgs_stop_reason(group, done)
            if self.step // log_every != (self.step - done) // log_every or self.stop_training:
                self._log(callbacks, bar, last["terms"])

    def _lbfgs_stop_reason(self, group, done) -> str:
        grads = [p.grad for p in self.trainable_parameters() if p.grad is not None]
        gmax = max(float(g.abs().max()) for g in grads) if grads else 0.0
        if gmax <= group["tolerance_grad"]:
            return f"L-BFGS converged: max |gradient| = {gmax:.3g} <= tolerance_grad = {group['tolerance_grad']:g}"
        return (f"L-BFGS stopped after {done} iterations of its last chunk: no descent possible in "
                f"{str(self.dtype).removeprefix('torch.')} (loss or step change <= tolerance_change = "
                f"{group['tolerance_change']:g}; max |gradient| = {gmax:.3g}). Further iterations cannot improve "
                "this run; use dtype=torch.float64 for more.")

    def _log(self, callbacks, bar, terms: dict[str, Tensor] | None = None) -> dict[str, Any]:
        if terms is None:
            with torch.enable_grad():
                _, terms, _ = self.losses()
        record: dict[str, Any] = {"step": self.step, "optimizer": self.optimizer_name}
        values = {k: float(v.detach()) for k, v in terms.items()}
        record["loss"] = sum(self.loss_weights[k] * v for k, v in values.items())
        record.update(values)
        record["lr"] = float(self.optimizer.param_groups[0]["lr"])
        record["time"] = self._elapsed
        for key, p in self.problem.parameters.items():
            record[key] = float(p.detach())
        record.update(self.sampler.info())
        if self.reference is not None:
            record["l2_relative_error"] = l2_relative_error(self.predict(self.reference[0]), self.reference[1])
        self.history.append(record)
        if bar is not None:
            post = {"loss": f"{record['loss']:.2e}", **{k: f"{v:.1e}" for k, v in values.items()}}
            if "l2_relative_error" in record:
                post["L2"] = f"{record['l2_relative_error']:.2e}"
            bar.set_postfix(post, refresh=False)
        for cb in callbacks:
            cb.on_log(self, record)
        return record

    # ------------------------------------------------------------------ use
    def predict(self, x) -> np.ndarray:
        """Network outputs ``(n, k)`` as a float64 numpy array at points ``x`` ``(n, d)`` (coordinate order
        of the problem)."""
        return evaluate(self.net, x, self.problem.domain, self.dtype, self.device)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The full training state (see :meth:`save`)."""
        from .nets.registry import spec_or_none

        state = {
            "step": self.step, "elapsed": self._elapsed, "seed": self.seed,
            "net": self.net.state_dict(), "net_spec": spec_or_none(self.net),
            "optimizer_name": self.optimizer_name, "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "sampler": self.sampler.state_dict(),
            "condition_points": self.condition_points,
            "parameters": {k: v.detach().clone() for k, v in self.problem.parameters.items()},
            "rng": {"torch": torch.get_rng_state(), "numpy": self.rng.bit_generator.state,
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
            "history": self.history, "loss_weights": self.loss_weights,
            "problem": {"outputs": list(self.problem.outputs), "coordinates": list(self.problem.domain.names)},
            "dtype": str(self.dtype).removeprefix("torch."),
        }
        return state

    def save(self, path: str | os.PathLike) -> None:
        """Write the full training state (net, optimizer, scheduler, step, sampler, condition points, RNG
        states, PDE parameters, history) to ``path`` atomically; :func:`pinnkit.load` reads the model back
        and :meth:`load_state` resumes training exactly."""
        save_atomic(self.state_dict(), path)

    def load_state(self, path: str | os.PathLike) -> None:
        """Resume from a checkpoint written by :meth:`save` for the same problem, net and optimizer."""
        self.load_state_dict(load_checkpoint(path, map_location=self.device), source=str(path))

    def load_state_dict(self, state: dict[str, Any], source: str = "the state") -> None:
        """Resume from a state given by :meth:`state_dict` (see :meth:`load_state`)."""
        if state["problem"]["outputs"] != list(self.problem.outputs):
            raise ValueError(f"{source} was written for outputs {state['problem']['outputs']}, not "
                             f"{list(self.problem.outputs)}")
        self.net.load_state_dict(state["net"])
        if state["optimizer_name"] != self.optimizer_name:
            self._set_optimizer(state["optimizer_name"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.sampler.load_state_dict(state["sampler"])
        self.condition_points = state["condition_points"]
        with torch.no_grad():
            for k, v in state["parameters"].items():
                self.problem.parameters[k].copy_(v)
        torch.set_rng_state(state["rng"]["torch"].cpu())
        if state["rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in state["rng"]["cuda"]])
        self.rng.bit_generator.state = state["rng"]["numpy"]
        self.step, self._elapsed = state["step"], state["elapsed"]
        self.history = list(state["history"])
        self._batch = self._batch_points = None


def evaluate(net: nn.Module, x, domain, dtype: torch.dtype, device: torch.device) -> np.ndarray:
    """``net`` at points ``x`` ``(n, d)`` (columns in ``domain.names``) as a float64 numpy ``(n, k)``, in chunks,
    without gradients; a clear error for points of the wrong shape."""
    points = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x, dtype=dtype, device=device)
    if points.ndim != 2 or points.shape[1] != domain.dim:
        raise ValueError(f"x must have shape (n, {domain.dim}) with columns {domain.names}; got "
                         f"{tuple(points.shape)}")
    with torch.no_grad():
        return torch.cat([net(p) for p in points.split(65536)]).double().cpu().numpy()


def _progress_bar(total: int, name: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=name, unit="step", dynamic_ncols=True, leave=True)
