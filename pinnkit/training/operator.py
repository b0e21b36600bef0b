"""Physics-informed operator learning: the objective of an :class:`~pinnkit.pde.OperatorProblem`, and
:class:`OperatorTrainer`.

Each step takes the next ``batch_size`` functions of a fixed pool of ``functions`` training functions (drawn
once from the problem's function space, reshuffled every pass through the pool), evaluates every term's
residual for all of them at the points of the step (the sampler's collocation points and the conditions'
points, shared by all functions), and the loss terms are

    L_k = sum_j mean_{functions, points} (r_k,j)^2      (j over the term's columns, as for a PINN).

Through a quasi-Newton chunk the batch of functions is held (the line search needs one objective function).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..checks import check_device, check_dtype, check_seed
from ..derivatives.backend import Backend
from ..distributed.ranks import DataParallel, Ranks
from ..distributed.ranks import start as start_ranks
from ..distributed.shard import block, global_counts, global_rows, shard_batch, shares, square_sum, whole_values
from ..pde.evaluator import InputBatch
from ..pde.operator_problem import OperatorProblem
from ..pde.specification import Batch
from ..sampling import FixedPoints, Resample
from ..sampling.sampler import scale_points
from .objective import Evaluation, TracedTerms
from .problem_objective import ProblemObjective, mean_square
from .problem_trainer import ProblemTrainer, from_objective
from .rollback import clone_tensors


class OperatorObjective(ProblemObjective):
    """The loss terms of an operator problem for ``net(v, x)`` over batches of input functions (module
    docstring); built by :class:`OperatorTrainer`."""

    kind = "operator"

    def __init__(self, problem: OperatorProblem, net: nn.Module, *, functions: int | Tensor, batch_size: int | None,
                 sampler: FixedPoints | Resample | None, backend: str | Backend, device: torch.device,
                 dtype: torch.dtype, seed: int, ranks: Ranks | None = None):
        if not isinstance(problem, OperatorProblem):
            raise ValueError(f"problem must be a pinnkit OperatorProblem; got {type(problem).__name__}")
        if not isinstance(net, nn.Module):
            raise ValueError(f"net must be a torch.nn.Module; got {type(net).__name__}")
        super().__init__(problem, net, backend=backend, kind="operator", device=device, dtype=dtype, seed=seed,
                         ranks=ranks)
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
        batch_size = pool if batch_size is None else batch_size
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= pool:
            raise ValueError(f"batch_size must be an integer in [1, {pool}] (the pool of functions); got "
                             f"{batch_size!r}")
        #: What the ranks divide: ``"points"``, ``"functions"`` (:class:`~pinnkit.distributed.DataParallel`), or
        #: None in one process.
        self.split = None if self.ranks is None else self.ranks.operator_split
        weak = self.ranks is not None and self.ranks.scaling == "weak"
        if weak and self.split == "functions":  # batch_size functions per rank
            batch_size *= self.ranks.world_size
            if batch_size > pool:
                raise ValueError(f"batch_size: weak scaling takes batch_size functions per rank, "
                                 f"{batch_size} in all, more than the pool of {pool}")
        if self.split == "functions" and batch_size < self.ranks.world_size:
            raise ValueError(f"batch_size: data-parallel operator training with operator_split='functions' splits "
                             f"each batch of functions over the {self.ranks.world_size} ranks, so it needs at "
                             f"least {self.ranks.world_size}; got {batch_size}")
        self.batch_size = batch_size
        self.sampler = sampler if sampler is not None else FixedPoints(2000, "sobol")
        if not isinstance(self.sampler, (FixedPoints, Resample)):
            raise ValueError(f"sampler must be FixedPoints or Resample (samplers that look at residuals are not "
                             f"supported for operator learning); got {type(self.sampler).__name__}")
        if weak and self.split == "points":  # the sampler's count of points per rank
            scale_points(self.sampler, self.ranks.world_size)
        self.sampler.claim(self, "sampler")
        self.sampler.setup(problem.domain, self.rng, dtype, device)
        self.sensor_values = problem.space.evaluate(self.features, problem.sensors).to(device, dtype)
        self._values: Tensor | None = None  # the pool's input functions at the batch points (F, N)
        self._order, self._cursor = np.arange(0), 0
        self._hold, self._held_index = False, None
        self._local: tuple[Batch, Batch, Tensor] | None = None  # (global batch, this rank's share, its rows)
        self._traced: tuple[OperatorTerms, dict[int, str]] | None = None  # built at the first traced_terms

    # ------------------------------------------------------------------ batches
    def next_functions(self) -> np.ndarray:
        """Indices of the next ``batch_size`` functions of the pool (a fresh permutation each pass)."""
        if self._cursor + self.batch_size > len(self._order):
            self._order, self._cursor = self.function_rng.permutation(len(self.features)), 0
        index = self._order[self._cursor:self._cursor + self.batch_size]
        self._cursor += self.batch_size
        return index

    def current_batch(self, step: int) -> Batch:
        """The batch of step ``step`` (:meth:`ProblemObjective.current_batch`), with the pool's input functions at
        its points when they moved."""
        moved = self.sampler.points(step) is not self._batch_points or self._values is None
        batch = super().current_batch(step)
        if moved:
            self._values = self.problem.input_values(self.features, batch.points).to(self.device, self.dtype)
        return batch

    def losses(self, index: np.ndarray, step: int = 0, whole: bool = True) -> dict[str, Tensor]:
        """The loss terms for the functions ``index`` of the pool (under data-parallel training their global
        values, or with ``whole=False`` this rank's shares of them)."""
        batch = self.current_batch(step)
        functions = len(index)
        if self.split == "functions":  # this rank's block of the batch of functions at all the points
            index = index[block(len(index), self.ranks)]
        idx = torch.as_tensor(index, device=self.device)
        values, local = self._values[idx], batch
        if self.split == "points":  # all the functions at this rank's block of the points
            local, rows = self._share(batch)
            values = values[:, rows]
        residuals = self.evaluator.residuals(local, InputBatch(self.sensor_values[idx], values))
        if self.ranks is None:
            return {name: mean_square(residuals[name], batch_axes=2) for name in self.problem.terms}
        parts = {k: square_sum(residuals[k], batch_axes=2) for k in self.problem.terms}
        if self.split == "functions":  # every rank has all the rows, for its block of the functions
            counts = {k: functions * residuals[k].shape[1] for k in parts}
        else:
            counts = global_counts(batch, self.problem.conditions, self.ranks,
                                   {k: count for k, (_, count) in parts.items()}, per_row=functions)
        terms = shares(parts, counts)
        return whole_values(terms, self.ranks) if whole else terms

    def _share(self, batch: Batch) -> tuple[Batch, Tensor]:
        """This rank's share of ``batch`` (:func:`~pinnkit.distributed.shard.shard_batch`) and the indices of its
        rows in ``batch``, kept while the batch is."""
        if self._local is None or self._local[0] is not batch:
            local, rows = shard_batch(batch, self.problem.conditions, self.ranks)
            self._local = (batch, local, global_rows(batch, rows))
        return self._local[1], self._local[2]

    def evaluate(self, step: int) -> Evaluation:
        return Evaluation(self.losses(self._step_functions(), step))

    @property
    def traces_whole(self) -> bool:
        """Where the evaluator is traced whole (a compiled ``"taylor"`` backend and a DeepONet), on one process."""
        return self.ranks is None and self.evaluator.traced

    def traced_terms(self, step: int) -> TracedTerms | None:
        """The terms of the next batch of functions as one traceable function (:class:`OperatorTerms`) where
        :attr:`traces_whole`, after the first pass that learns the multi-indices; else ``None``."""
        if not self.traces_whole or not self.evaluator.learned:
            return None
        if self._traced is None:
            module = OperatorTerms(self)
            self._traced = module, {id(p): name for name, p in module.named_parameters()}
        module, names = self._traced
        batch = self.current_batch(step)
        idx = torch.as_tensor(self._step_functions(), device=self.device)
        inputs = (batch, self.sensor_values[idx].to(batch.points), self._values[idx].to(batch.points))
        return TracedTerms(module, inputs, names)

    def evaluate_shares(self, step: int) -> Evaluation:
        if self.ranks is None:
            return self.evaluate(step)
        return Evaluation(self.losses(self._step_functions(), step, whole=False), shares=True)

    def _step_functions(self) -> np.ndarray:
        """The functions of this step: the next batch, or the held one through a line search."""
        if self._hold and self._held_index is not None:
            return self._held_index
        index = self.next_functions()
        if self._hold:
            self._held_index = index
        return index

    def evaluate_for_log(self, step: int) -> Evaluation:
        """The terms for the next batch of functions, without moving on to it."""
        ahead = self._order[self._cursor:self._cursor + self.batch_size]
        index = ahead if len(ahead) == self.batch_size else np.arange(self.batch_size)
        return Evaluation(self.losses(index, step))

    def after_step(self, step: int, evaluation: Evaluation) -> None:
        self.sampler.update(step, torch.zeros(0))

    def hold(self, hold: bool) -> None:
        self._hold, self._held_index = bool(hold), None

    def snapshot(self) -> dict[str, Any]:
        return clone_tensors({"sampler": self.sampler.state_dict(), "order": self._order.copy(),
                              "cursor": self._cursor, "rng": copy.deepcopy(self.rng.bit_generator.state),
                              "functions": copy.deepcopy(self.function_rng.bit_generator.state)})

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.sampler.load_state_dict(clone_tensors(snapshot["sampler"]))
        self._order, self._cursor = snapshot["order"].copy(), snapshot["cursor"]
        self.rng.bit_generator.state = copy.deepcopy(snapshot["rng"])
        self.function_rng.bit_generator.state = copy.deepcopy(snapshot["functions"])
        self.forget_batch()

    def record(self) -> dict[str, float]:
        return self.parameter_values()

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {**self.problem_state(), "sampler": self.sampler.state_dict(),
                "features": self.features, "order": torch.from_numpy(self._order), "cursor": self._cursor,
                "rng": {"numpy": self.rng.bit_generator.state, "functions": self.function_rng.bit_generator.state},
                "problem": {"outputs": list(self.problem.outputs), "coordinates": list(self.problem.domain.names),
                            "sensors": self.problem.sensors}}

    def fingerprint(self) -> dict[str, Any]:
        return {**super().fingerprint(), "function_space": type(self.problem.space).__name__,
                "sensors": list(self.problem.sensors.shape)}

    def load_state_dict(self, state: dict[str, Any], source: str = "the state") -> None:
        self.load_problem_state(state)
        self.sampler.load_state_dict(state["sampler"])
        self.features = state["features"]
        self.sensor_values = self.problem.space.evaluate(self.features, self.problem.sensors).to(self.device,
                                                                                              self.dtype)
        self._order, self._cursor = state["order"].numpy(), int(state["cursor"])
        self.rng.bit_generator.state = state["rng"]["numpy"]
        self.function_rng.bit_generator.state = state["rng"]["functions"]
        self._values = None


class OperatorTerms(nn.Module):
    """The loss terms of an :class:`OperatorObjective` on one process, as a module whose parameters are the
    objective's (the network's, then the PDE parameters): ``forward(batch, sensors, values)`` returns ``(terms,
    {})`` for the functions' sensor values (M, m) and values at the batch's points (M, N), as
    :meth:`OperatorObjective.evaluate` does, for the fused step (:class:`~pinnkit.training.objective.TracedTerms`)."""

    def __init__(self, objective: OperatorObjective):
        super().__init__()
        self.net, self.pde_parameters = objective.net, objective.pde_parameters
        self._evaluator, self._terms = objective.evaluator, objective.problem.terms

    def forward(self, batch: Batch, sensors: Tensor, values: Tensor) -> tuple[dict[str, Tensor], dict[str, Any]]:
        residuals = self._evaluator._evaluate(batch, sensors, values)
        return {name: mean_square(residuals[name], batch_axes=2) for name in self._terms}, {}


class OperatorTrainer(ProblemTrainer):
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
        look at residuals (R3, RAD) are not supported.
    backend : str or Backend
        ``"zcs"`` (default), ``"loop"``, ``"replicated"`` or ``"taylor"`` (see :mod:`pinnkit.pde.operator_problem`);
        ``pinnkit.Backend("taylor", compile=True)`` runs the trunk's jet pass through ``torch.compile``.
    optimizer, lr, optimizer_options, scheduler, loss_weights
        As for :class:`~pinnkit.training.TrainingLoop` (L-BFGS and the multi-loss optimizers included).
    device, dtype, seed
        As for :class:`~pinnkit.Trainer`.
    distributed : DataParallel, bool or None
        As for :class:`~pinnkit.Trainer`: each rank takes all functions of the batch at its block of the points
        (``DataParallel(operator_split="functions")``: its block of every batch of functions at all the points;
        ``"weak"`` scaling then means ``batch_size`` functions per rank).
    """

    def __init__(self, problem: OperatorProblem, net: nn.Module, *, functions: int | Tensor = 1000,
                 batch_size: int | None = None, sampler: FixedPoints | Resample | None = None,
                 backend: str | Backend = "zcs",
                 optimizer: str | Callable = "adam", lr: float | None = None, optimizer_options: Mapping | None = None,
                 scheduler: Callable | None = None, device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float32, loss_weights: Mapping[str, float] | None = None, seed: int = 0,
                 distributed: DataParallel | bool | None = None):
        device, dtype, seed = check_device(device), check_dtype(dtype), check_seed(seed)
        ranks = start_ranks(distributed, device)
        device = device if ranks is None else ranks.device
        objective = OperatorObjective(problem, net, functions=functions, batch_size=batch_size, sampler=sampler,
                                      backend=backend, device=device, dtype=dtype, seed=seed, ranks=ranks)
        super().__init__(objective, optimizer=optimizer, lr=lr, optimizer_options=optimizer_options,
                         scheduler=scheduler, loss_weights=loss_weights, device=device, ranks=ranks)

    features = from_objective("features", "The pool of training functions (F, q).")
    batch_size = from_objective("batch_size", "Functions per step.")

    def losses(self, index: np.ndarray | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """``(total loss, loss per term)`` for the functions ``index`` of the pool (default: the next batch)."""
        index = self.objective.next_functions() if index is None else index
        terms = self.objective.losses(index, self.step)
        return sum(self._weighted(terms).values()), terms

    def predict(self, features, points, chunk: int = 256) -> np.ndarray:
        """Outputs (M, N, k), float64 numpy, for the functions ``features`` (M, q) (from ``space.sample``) at
        points (N, d); ``chunk`` functions at a time, without gradients."""
        problem = self.problem
        x = torch.as_tensor(np.asarray(points) if not isinstance(points, Tensor) else points, dtype=self.dtype,
                            device=self.device)
        if x.ndim != 2 or x.shape[1] != problem.domain.dim:
            raise ValueError(f"points must have shape (N, {problem.domain.dim}) with columns "
                             f"{problem.domain.names}; got {tuple(x.shape)}")
        v = problem.space.evaluate(features, problem.sensors).to(self.device, self.dtype)
        with torch.no_grad():
            return torch.cat([self.net(part, x) for part in v.split(chunk)]).double().cpu().numpy()
