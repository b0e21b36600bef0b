"""The training loop of physics-informed operator learning: a batch of input functions per step.

Each step takes the next ``batch_size`` functions of a fixed pool of ``functions`` training functions (drawn
once from the problem's function space, reshuffled every pass through the pool), evaluates every term's
residual for all of them at the points of the step (the sampler's collocation points and the conditions'
points, shared by all functions) and takes one optimizer step on

    L = sum_k w_k mean_{functions, points} (r_k)^2.

Callbacks (:mod:`pinnkit.callbacks`), checkpoints (:meth:`OperatorTrainer.save`) and the history work as for
:class:`~pinnkit.Trainer`.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .callbacks import Callback
from .checkpoint import save_atomic
from .nets.taylor_mode import mlp_jet
from .pde.operator_problem import InputBatch, OperatorProblem, check_operator_backend
from .pde.problem import Batch
from .sampling import FixedPoints, Resample
from .trainer import OPTIMIZERS, NonFiniteLossError, StepBookkeeping, _progress_bar, check_compile

FIRST_ORDER = ("adam", "adamw", "sgd", "rmsprop")


class OperatorTrainer(StepBookkeeping):
    """Fit a DeepONet-like ``net(v, x)`` to an :class:`~pinnkit.pde.OperatorProblem`.

    Parameters
    ----------
    problem : OperatorProblem
    net : nn.Module
        ``net(v, x)``: sensor values (M, m) and points (N, d) -> (M, N, k), e.g. :class:`~pinnkit.nets.DeepONet`.
    functions : int or tensor
        Size of the pool of training functions drawn from ``problem.space`` (seeded by ``seed``), or their
        features (F, q) as given by ``space.sample``.
    batch_size : int, optional
        Functions per step (default: the whole pool).
    sampler : FixedPoints or Resample, optional
        PDE collocation points shared by all functions; default ``FixedPoints(2000, "sobol")``. Samplers that
        look at residuals (R3, RAD, causal weighting) are not supported.
    backend : str
        ``"zcs"`` (default), ``"loop"``, ``"replicated"`` or ``"taylor"`` (DeepONets with smooth MLP trunks; the
        fastest where it applies) (see :mod:`pinnkit.pde.operator_problem`).
    compile : bool
        ``backend="taylor"`` only: run the trunk's jet pass through ``torch.compile`` (a one-off compilation of
        some seconds per point-set size, then fused kernels; worthwhile for long runs; needs a C++ compiler).
    optimizer : str or callable
        ``"adam"``, ``"adamw"``, ``"sgd"``, ``"rmsprop"`` or ``params -> torch.optim.Optimizer``.
    lr, scheduler, device, dtype, loss_weights, seed
        As for :class:`~pinnkit.Trainer`.
    """

    def __init__(self, problem: OperatorProblem, net: nn.Module, *, functions: int | Tensor = 1000,
                 batch_size: int | None = None, sampler: FixedPoints | Resample | None = None, backend: str = "zcs",
                 optimizer: str | Callable = "adam", lr: float = 1e-3, scheduler: Callable | None = None,
                 device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
                 loss_weights: Mapping[str, float] | None = None, seed: int = 0, compile: bool = False):
        if not isinstance(problem, OperatorProblem):
            raise ValueError(f"problem must be a pinnkit OperatorProblem; got {type(problem).__name__}")
        if not isinstance(net, nn.Module):
            raise ValueError(f"net must be a torch.nn.Module; got {type(net).__name__}")
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise ValueError(f"dtype must be a floating torch dtype; got {dtype!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
        if not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and lr > 0):
            raise ValueError(f"lr must be a positive number; got {lr!r}")
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={device!r}: CUDA is not available on this machine")
        self.problem, self.dtype, self.seed, self.lr = problem, dtype, seed, float(lr)
        self.net = net.to(device=self.device, dtype=dtype)
        problem.parameters.to(device=self.device, dtype=dtype)
        problem.check_net(self.net, dtype, self.device)
        self.backend = check_operator_backend(backend, self.net)
        self.compile = check_compile(compile, self.backend)
        self._mlp_jet = torch.compile(mlp_jet, dynamic=False) if compile else mlp_jet
        self.loss_weights = {k: 1.0 for k in problem.terms}
        for key, value in (loss_weights or {}).items():
            if key not in self.loss_weights:
                raise ValueError(f"loss_weights: unknown term {key!r}; the problem's terms are {problem.terms}")
            self.loss_weights[key] = float(value)
        streams = np.random.SeedSequence(seed).spawn(3)
        self.rng = np.random.default_rng(streams[0])
        self.function_rng = np.random.default_rng(streams[2])
        if isinstance(functions, Tensor):
            if functions.ndim != 2 or functions.shape[1] != problem.space.features:
                raise ValueError(f"functions must be features (F, {problem.space.features}) from space.sample; got "
                                 f"{tuple(functions.shape)}")
            self.features = functions.detach().double().cpu()
        elif isinstance(functions, int) and not isinstance(functions, bool) and functions >= 1:
            self.features = problem.space.sample(functions, np.random.default_rng(streams[1]))
        else:
            raise ValueError(f"functions must be a positive integer or a (F, q) tensor of features; got {functions!r}")
        pool = len(self.features)
        if batch_size is None:
            batch_size = pool
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= pool:
            raise ValueError(f"batch_size must be an integer in [1, {pool}] (the pool of functions); got "
                             f"{batch_size!r}")
        self.batch_size = batch_size
        self.sampler = sampler if sampler is not None else FixedPoints(2000, "sobol")
        if not isinstance(self.sampler, (FixedPoints, Resample)):
            raise ValueError(f"sampler must be FixedPoints or Resample (samplers that look at residuals are not "
                             f"supported for operator learning); got {type(self.sampler).__name__}")
        self.sampler.setup(problem.domain, self.rng, dtype, self.device)
        self.condition_points = problem.sample_conditions(seed)
        self.sensor_values = problem.space.evaluate(self.features, problem.sensors).to(self.device, dtype)
        self.scheduler_factory = scheduler
        self._set_optimizer(optimizer)
        self.step, self.history, self._elapsed = 0, [], 0.0
        self.stop_training, self.stop_reason = False, None
        self._batch: Batch | None = None
        self._batch_points: Tensor | None = None
        self._values: Tensor | None = None  # the pool's input functions at the batch points (F, N)
        self._order, self._cursor = np.arange(0), 0

    # ------------------------------------------------------------------ set-up
    def trainable_parameters(self) -> list[Tensor]:
        """The network's parameters followed by the problem's PDE parameters."""
        return list(self.net.parameters()) + list(self.problem.parameters.values())

    def _set_optimizer(self, spec) -> None:
        params = self.trainable_parameters()
        if isinstance(spec, str):
            if spec.lower() not in FIRST_ORDER:
                raise ValueError(f"optimizer must be one of {FIRST_ORDER} or a function params -> optimizer; got "
                                 f"{spec!r}")
            # Adam(W) as one fused kernel over all parameters: the same updates to round-off (float64: 2e-16 after
            # 100 steps), a third of the per-step optimizer time of the per-tensor loop on one CPU thread.
            fused = spec.lower() in ("adam", "adamw") and self.device.type in ("cpu", "cuda")
            self.optimizer = OPTIMIZERS[spec.lower()](params, lr=self.lr, **({"fused": True} if fused else {}))
            self.optimizer_name = spec.lower()
        elif callable(spec):
            self.optimizer = spec(params)
            if not isinstance(self.optimizer, torch.optim.Optimizer) or isinstance(self.optimizer,
                                                                                   torch.optim.LBFGS):
                raise ValueError("the optimizer factory must return a first-order torch.optim.Optimizer")
            self.optimizer_name = type(self.optimizer).__name__.lower()
        else:
            raise ValueError(f"optimizer must be a name or a function params -> optimizer; got {type(spec).__name__}")
        self.scheduler = None if self.scheduler_factory is None else self.scheduler_factory(self.optimizer)

    # ------------------------------------------------------------------ batches
    def _next_functions(self) -> np.ndarray:
        """Indices of the next ``batch_size`` functions of the pool (a fresh permutation each pass)."""
        if self._cursor + self.batch_size > len(self._order):
            self._order, self._cursor = self.function_rng.permutation(len(self.features)), 0
        index = self._order[self._cursor:self._cursor + self.batch_size]
        self._cursor += self.batch_size
        return index

    def _current_batch(self) -> Batch:
        points, _ = self.sampler.points(self.step)
        if self._batch is None:
            self._batch = self.problem.batch(points, self.condition_points, dtype=self.dtype, device=self.device)
        elif points is not self._batch_points:
            self._batch = self.problem.batch(points, reuse=self._batch)
        if points is not self._batch_points or self._values is None:
            self._values = self.problem.input_values(self.features, self._batch.points).to(self.device, self.dtype)
        self._batch_points = points
        return self._batch

    def losses(self, index: np.ndarray | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """``(total loss, loss per term)`` for the functions ``index`` of the pool (default: the next batch)."""
        batch = self._current_batch()
        index = self._next_functions() if index is None else index
        idx = torch.as_tensor(index, device=self.device)
        inputs = InputBatch(self.sensor_values[idx], self._values[idx])
        residuals = self.problem.residuals(self.net, batch, inputs, self.backend, self._mlp_jet)
        terms = {name: residuals[name].square().mean() for name in self.problem.terms}
        total = sum(self.loss_weights[k] * v for k, v in terms.items())
        return total, terms

    # ------------------------------------------------------------------ training
    def fit(self, steps: int, *, callbacks: Sequence[Callback] = (), log_every: int = 100,
            progress: bool = True) -> list[dict]:
        """Run ``steps`` optimizer steps, one batch of functions each; returns the history."""
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"steps must be a non-negative integer; got {steps!r}")
        if isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 1:
            raise ValueError(f"log_every must be a positive integer; got {log_every!r}")
        self.stop_training, self.stop_reason = False, None
        bar = _progress_bar(steps, self.optimizer_name, progress)
        for cb in callbacks:
            cb.on_fit_start(self)
        end = self.step + steps
        terms: dict[str, Tensor] = {}
        try:
            while self.step < end and not self.stop_training:
                start = time.perf_counter()
                self.optimizer.zero_grad(set_to_none=True)
                total, terms = self.losses()
                value = total.item()
                if not math.isfinite(value):
                    values = ", ".join(f"{k}={float(v.detach()):.3g}" for k, v in terms.items())
                    raise NonFiniteLossError(f"the loss became non-finite at step {self.step + 1} ({values}); the "
                                             f"network keeps the parameters of step {self.step}. Try a smaller lr.")
                total.backward()
                self.optimizer.step()
                if self.scheduler is not None:
                    self.scheduler.step()
                self.sampler.update(self.step, torch.zeros(0))
                self._end_step(start, value, terms, callbacks, bar, log_every)
        finally:
            if terms and (not self.history or self.history[-1]["step"] != self.step):
                self._log(callbacks, bar, terms)
            if bar is not None:
                bar.close()
            for cb in callbacks:
                cb.on_fit_end(self)
        return self.history

    def _log(self, callbacks, bar, terms: dict[str, Tensor]) -> dict[str, Any]:
        values = {k: float(v.detach()) for k, v in terms.items()}
        record: dict[str, Any] = {"step": self.step, "optimizer": self.optimizer_name,
                                  "loss": sum(self.loss_weights[k] * v for k, v in values.items()), **values,
                                  "lr": float(self.optimizer.param_groups[0]["lr"]), "time": self._elapsed}
        for key, p in self.problem.parameters.items():
            record[key] = float(p.detach())
        self.history.append(record)
        if bar is not None:
            bar.set_postfix({"loss": f"{record['loss']:.2e}", **{k: f"{v:.1e}" for k, v in values.items()}},
                            refresh=False)
        for cb in callbacks:
            cb.on_log(self, record)
        return record

    # ------------------------------------------------------------------ use
    def predict(self, features, points, chunk: int = 256) -> np.ndarray:
        """Outputs (M, N, k), float64 numpy, for the functions ``features`` (M, q) (from ``space.sample``) at
        points (N, d); ``chunk`` functions at a time, without gradients."""
        x = torch.as_tensor(np.asarray(points) if not isinstance(points, Tensor) else points, dtype=self.dtype,
                            device=self.device)
        if x.ndim != 2 or x.shape[1] != self.problem.domain.dim:
            raise ValueError(f"points must have shape (N, {self.problem.domain.dim}) with columns "
                             f"{self.problem.domain.names}; got {tuple(x.shape)}")
        v = self.problem.space.evaluate(features, self.problem.sensors).to(self.device, self.dtype)
        with torch.no_grad():
            return torch.cat([self.net(part, x) for part in v.split(chunk)]).double().cpu().numpy()

    def state_dict(self) -> dict[str, Any]:
        """Net, optimizer, scheduler, step, history, the function pool and the RNG states."""
        from .nets.registry import spec_or_none

        return {"step": self.step, "elapsed": self._elapsed, "seed": self.seed, "net": self.net.state_dict(),
                "net_spec": spec_or_none(self.net), "optimizer_name": self.optimizer_name,
                "optimizer": self.optimizer.state_dict(),
                "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
                "sampler": self.sampler.state_dict(), "condition_points": self.condition_points,
                "features": self.features, "order": torch.from_numpy(self._order), "cursor": self._cursor,
                "parameters": {k: v.detach().clone() for k, v in self.problem.parameters.items()},
                "rng": {"numpy": self.rng.bit_generator.state, "functions": self.function_rng.bit_generator.state},
                "history": self.history, "loss_weights": self.loss_weights,
                "problem": {"outputs": list(self.problem.outputs), "coordinates": list(self.problem.domain.names),
                            "sensors": self.problem.sensors},
                "dtype": str(self.dtype).removeprefix("torch.")}

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`state_dict` to ``path`` atomically (a pinnkit checkpoint)."""
        save_atomic(self.state_dict(), path)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from :meth:`state_dict` of a trainer of the same problem, net and optimizer."""
        if state["problem"]["outputs"] != list(self.problem.outputs):
            raise ValueError(f"the state was written for outputs {state['problem']['outputs']}")
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.sampler.load_state_dict(state["sampler"])
        self.condition_points, self.features = state["condition_points"], state["features"]
        self.sensor_values = self.problem.space.evaluate(self.features, self.problem.sensors).to(self.device,
                                                                                              self.dtype)
        self._order, self._cursor = state["order"].numpy(), state["cursor"]
        with torch.no_grad():
            for k, v in state["parameters"].items():
                self.problem.parameters[k].copy_(v)
        self.rng.bit_generator.state = state["rng"]["numpy"]
        self.function_rng.bit_generator.state = state["rng"]["functions"]
        self.step, self._elapsed, self.history = state["step"], state["elapsed"], list(state["history"])
        self._batch = self._batch_points = self._values = None
