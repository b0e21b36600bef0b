"""PINN training: the objective of a :class:`~pinnkit.Problem` and a network, and :class:`Trainer`.

The loss terms are the mean squares of the per-point residuals,

    L_k = sum_j mean_i (r_k,ij)^2             (conditions; j over the term's columns)
    L_pde = mean_i (w_i r_i^2)                (PDE terms; w from the weighting, 1 without one)

(:func:`~pinnkit.training.problem_objective.mean_square`): a term of m columns (an ``ObservedData`` of m outputs,
a ``PeriodicBC`` of m derivative orders) weighs as much as m one-column terms, e.g. DeepXDE's m ``PointSetBC``
objects, one per output. The residuals are evaluated at the sampler's collocation points and the conditions' own
points, all in one forward pass. The trainer adds ``L = sum_k w_k L_k`` with the loss weights, steps the
optimizer, then hands the step's detached PDE residual to the sampler (which may move its points) and lets the
weighting advance its schedule.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..checks import check_device, check_dtype, check_pointwise_net, check_seed
from ..derivatives.backend import Backend
from ..distributed.collectives import gather_rows
from ..distributed.ranks import DataParallel, Ranks
from ..distributed.ranks import start as start_ranks
from ..distributed.shard import (
    block,
    block_sizes,
    global_counts,
    global_means,
    local_weights,
    shard_batch,
    shares,
    square_sum,
    whole_values,
)
from ..geometry.unit_samples import method_for_dim
from ..metrics import l2_relative_error
from ..nets.deeponet import DeepONet
from ..ownership import weak_method
from ..pde.operator_problem import OperatorProblem
from ..pde.problem import Problem
from ..pde.specification import Batch
from ..sampling import FixedPoints, Sampler
from ..sampling.sampler import scale_points
from ..weighting import Weighting, combine
from .objective import Evaluation, TracedTerms
from .prediction import as_points, predict_points, reference_arrays
from .problem_objective import ProblemObjective, mean_square
from .problem_trainer import ProblemTrainer, from_objective
from .rollback import clone_tensors


class PINNObjective(ProblemObjective):
    """The loss terms of ``problem`` for ``net`` (see the module docstring); built by :class:`Trainer`."""

    kind = "pinn"

    def __init__(self, problem: Problem, net: nn.Module, *, sampler: Sampler | None, weighting: Weighting | None,
                 backend: str | Backend, device: torch.device, dtype: torch.dtype, seed: int,
                 reference: tuple[Any, Any] | None, ranks: Ranks | None = None):
        if isinstance(problem, OperatorProblem):
            raise TypeError("problem is an OperatorProblem (a family of problems, one per input function): train "
                            "it with pinnkit.OperatorTrainer and a DeepONet")
        if not isinstance(problem, Problem):
            raise ValueError(f"problem must be a pinnkit Problem; got {type(problem).__name__}")
        if not isinstance(net, nn.Module):
            raise ValueError(f"net must be a torch.nn.Module; got {type(net).__name__}")
        if isinstance(net, DeepONet):
            raise TypeError("net must map points to outputs; a DeepONet maps input functions to solutions: train "
                            "it with pinnkit.OperatorTrainer on an OperatorProblem; got DeepONet")
        super().__init__(problem, net, backend=backend, kind="pinn", device=device, dtype=dtype, seed=seed,
                         ranks=ranks)
        probe_method = method_for_dim("sobol", problem.domain.dim)  # Sobol' where it can draw in d dimensions
        probe = problem.domain.sample_interior(5, probe_method, seed=0, dtype=dtype, device=device)
        check_pointwise_net(self.net, probe)
        self.rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[0])
        self.sampler = sampler if sampler is not None else FixedPoints(2000, "sobol")
        if not isinstance(self.sampler, Sampler):
            raise ValueError(f"sampler must be a pinnkit Sampler; got {type(self.sampler).__name__}")
        if weighting is not None and not isinstance(weighting, Weighting):
            raise ValueError(f"weighting must be a pinnkit.weighting Weighting; got {type(weighting).__name__}")
        self.sampler.claim(self, "sampler")
        if weighting is not None:
            weighting.claim(self, "weighting")
        if self.ranks is not None and self.ranks.scaling == "weak":
            scale_points(self.sampler, self.ranks.world_size)
        self.sampler.setup(problem.domain, self.rng, dtype, device, residual=weak_method(self.sampler_residual))
        self.weighting = combine([self.sampler.weighting(), weighting])
        if self.weighting is not None:
            self.weighting.setup(problem, dtype, device)
        self.reference = None if reference is None else reference_arrays(reference, problem, dtype, device)
        self.condition_terms = tuple(c.name for c in problem.conditions)
        self.loss_weights = {k: 1.0 for k in problem.terms}  # the trainer's, once it has checked them
        self._local: tuple[Batch, Batch, dict[str, Tensor]] | None = None  # (global batch, this rank's share, rows)
        self._traced: tuple[PINNTerms, dict[int, str]] | None = None  # built at the first traced_terms

    # ------------------------------------------------------------------ the loss
    def pde_residual(self, points: Tensor) -> Tensor:
        """The detached PDE residual at any ``points`` (N,) or (N, m), in chunks."""
        return self.evaluator.pde_residual(points)

    def sampler_residual(self, points: Tensor) -> Tensor:
        """:meth:`pde_residual` for the sampler's candidates: under data-parallel training each rank evaluates its
        block of them and every rank gets them all (a collective: all ranks call it together)."""
        if self.ranks is None:
            return self.pde_residual(points)
        n = len(points)
        local = self.pde_residual(points[block(n, self.ranks)])
        return gather_rows(local, block_sizes(n, self.ranks.world_size), self.ranks)

    def evaluate(self, step: int) -> Evaluation:
        if self.ranks is not None:
            return self._evaluate_share(step)
        batch = self.current_batch(step)
        if self.weighting is None:  # the loss terms with the residuals (one graph, if compiled)
            residuals, terms = self.evaluator.residuals_and(batch, mean_squares)
            return Evaluation({name: terms[name] for name in self.problem.terms}, {"residuals": residuals})
        residuals = self.evaluator.residuals(batch)
        terms = {name: mean_square(residuals[name]) for name in self.condition_terms}
        losses = {k: self.loss_weights[k] * terms[k].detach() for k in terms}
        weights = self.weighting.weights(self._batch_points, _stacked(residuals, self.problem.pde_terms), losses)
        for name in self.problem.pde_terms:
            terms[name] = mean_square(residuals[name], _for_term(weights, name))
        if isinstance(weights, Mapping):  # per-term weights of conditions
            for name in self.condition_terms:
                if name in weights:
                    terms[name] = mean_square(residuals[name], weights[name])
        return Evaluation({name: terms[name] for name in self.problem.terms}, {"residuals": residuals})

    @property
    def traces_whole(self) -> bool:
        """Where the evaluator is traced whole (a compiled backend and a traceable jet), without a weighting and on
        one process."""
        return self.ranks is None and self.weighting is None and self.evaluator.traced

    def traced_terms(self, step: int) -> TracedTerms | None:
        """The terms as one traceable function (:class:`PINNTerms`) where :attr:`traces_whole`; else ``None``."""
        if not self.traces_whole:
            return None
        if self._traced is None:
            module = PINNTerms(self)
            self._traced = module, {id(p): name for name, p in module.named_parameters()}
        module, names = self._traced
        return TracedTerms(module, (self.current_batch(step),), names)

    def evaluate_shares(self, step: int) -> Evaluation:
        if self.ranks is not None:
            return self._evaluate_share(step, whole=False)
        return self.evaluate(step)

    def _evaluate_share(self, step: int, whole: bool = True) -> Evaluation:
        """:meth:`evaluate` under data-parallel training: this rank's rows, global values (``whole``) or the rank's
        shares of them, the rank's gradient shares (:mod:`pinnkit.distributed.shard`)."""
        batch = self.current_batch(step)
        if self._local is None or self._local[0] is not batch:
            self._local = (batch, *shard_batch(batch, self.problem.conditions, self.ranks))
        _, local, rows = self._local
        residuals = self.evaluator.residuals(local)
        parts = {name: square_sum(residuals[name]) for name in self.condition_terms}
        weights, gathered = None, None
        if self.weighting is not None:
            conditions = global_means(parts, self.ranks) if parts else {}
            losses = {k: self.loss_weights[k] * v.detach() for k, v in conditions.items()}
            gathered = self._gathered(residuals, batch)
            weights = local_weights(self.weighting.weights(self._batch_points, gathered, losses), rows)
        for name in self.problem.pde_terms:
            parts[name] = square_sum(residuals[name], _for_term(weights, name))
        if isinstance(weights, Mapping):
            for name in self.condition_terms:
                if name in weights:
                    parts[name] = square_sum(residuals[name], weights[name])
        terms = shares(parts, global_counts(batch, self.problem.conditions, self.ranks,
                                            {k: count for k, (_, count) in parts.items()}))
        if whole:
            terms = whole_values(terms, self.ranks)
        return Evaluation({name: terms[name] for name in self.problem.terms},
                          {"residuals": residuals, "gathered": gathered, "batch": batch}, shares=not whole)

    def _gathered(self, residuals: dict[str, Tensor], batch: Batch) -> Tensor:
        """The detached PDE residual of all ranks at the global PDE points, in their order (a collective)."""
        n = batch.slices["pde"].stop
        return gather_rows(_stacked(residuals, self.problem.pde_terms), block_sizes(n, self.ranks.world_size),
                           self.ranks)

    def after_step(self, step: int, evaluation: Evaluation) -> None:
        details = evaluation.details
        if self.ranks is None:
            residual = _stacked(details["residuals"], self.problem.pde_terms)
        else:  # gathered from the ranks only for a sampler that reads it (a collective: all ranks or none)
            residual = details["gathered"]
            if residual is None and self.sampler.uses_residual:
                residual = self._gathered(details["residuals"], details["batch"])
        self.sampler.update(step, residual)
        if self.weighting is not None:
            self.weighting.update(step)

    def hold(self, hold: bool) -> None:
        if self.weighting is not None:
            self.weighting.hold(hold)

    def snapshot(self) -> dict[str, Any]:
        return clone_tensors({"sampler": self.sampler.state_dict(),
                              "weighting": None if self.weighting is None else self.weighting.state_dict(),
                              "rng": copy.deepcopy(self.rng.bit_generator.state)})

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.sampler.load_state_dict(clone_tensors(snapshot["sampler"]))
        if self.weighting is not None:
            self.weighting.load_state_dict(clone_tensors(snapshot["weighting"]))
        self.rng.bit_generator.state = copy.deepcopy(snapshot["rng"])
        self.forget_batch()  # rebuild the batch's PDE rows from the restored points

    def record(self) -> dict[str, float]:
        out = self.parameter_values()
        out.update(self.sampler.info())
        if self.weighting is not None:
            out.update(self.weighting.info())
        if self.reference is not None:
            out["l2_relative_error"] = l2_relative_error(self.predict(self.reference[0]), self.reference[1])
        return out

    def predict(self, x) -> np.ndarray:
        return predict_points(self.net, x, self.problem.domain, self.dtype, self.device)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        return {**self.problem_state(), "sampler": self.sampler.state_dict(),
                "weighting": None if self.weighting is None else self.weighting.state_dict(),
                "rng": {"numpy": self.rng.bit_generator.state},
                "problem": {"outputs": list(self.problem.outputs), "coordinates": list(self.problem.domain.names)}}

    def load_state_dict(self, state: dict[str, Any], source: str = "the state") -> None:
        self.load_problem_state(state)
        self.sampler.load_state_dict(state["sampler"])
        if (state["weighting"] is None) != (self.weighting is None):
            raise ValueError(f"{source} was written {'with' if state['weighting'] is not None else 'without'} a "
                             f"weighting; this trainer has {'one' if self.weighting is not None else 'none'}")
        if self.weighting is not None:
            self.weighting.load_state_dict(state["weighting"])
        self.rng.bit_generator.state = state["rng"]["numpy"]


class PINNTerms(nn.Module):
    """The unweighted loss terms of a :class:`PINNObjective` without a weighting, as a module whose parameters are
    the objective's (the network's, then the PDE parameters): ``forward(batch)`` returns ``(terms, details)`` as
    :meth:`PINNObjective.evaluate` does, for the fused step (:class:`~pinnkit.training.objective.TracedTerms`)."""

    def __init__(self, objective: PINNObjective):
        super().__init__()
        self.net, self.pde_parameters = objective.net, objective.pde_parameters
        self._evaluator, self._terms = objective.evaluator, objective.problem.terms

    def forward(self, batch: Batch) -> tuple[dict[str, Tensor], dict[str, Any]]:
        residuals, terms = self._evaluator._evaluate_and(batch, mean_squares)
        return {name: terms[name] for name in self._terms}, {"residuals": residuals}


def mean_squares(residuals: dict[str, Tensor]) -> dict[str, Tensor]:
    """Every term's :func:`~pinnkit.training.problem_objective.mean_square`, unweighted."""
    return {name: mean_square(r) for name, r in residuals.items()}


def _stacked(residuals: dict[str, Tensor], pde_terms: tuple[str, ...]) -> Tensor:
    """The detached PDE residual: (N,) for one PDE term, (N, m) for m terms."""
    pde = [residuals[k].detach() for k in pde_terms]
    return pde[0] if len(pde) == 1 else torch.stack(pde, dim=-1)


def _for_term(weights, name: str) -> Tensor | None:
    if isinstance(weights, Mapping):
        return weights.get(name)
    return weights


class Trainer(ProblemTrainer):
    """Fit ``net`` to ``problem``.

    Parameters
    ----------
    problem : Problem
    net : nn.Module
        Maps points ``(N, d)`` in the problem's coordinate order to outputs ``(N, k)``, each row from its own
        point alone (checked: :func:`~pinnkit.checks.check_pointwise_net`; BatchNorm is refused). An operator
        network (:class:`~pinnkit.nets.DeepONet`) is trained by :class:`~pinnkit.OperatorTrainer` instead.
    sampler : Sampler, optional
        Collocation points of the PDE terms; default ``FixedPoints(2000, "sobol")``.
    weighting : Weighting, optional
        Weights of the loss from the step's residuals (e.g. :class:`~pinnkit.weighting.CausalWeighting`),
        multiplied with the sampler's own (:meth:`~pinnkit.sampling.Sampler.weighting`) if it has one.
    optimizer, lr, optimizer_options, scheduler, loss_weights
        As for :class:`~pinnkit.training.TrainingLoop`; a multi-loss optimizer (MultiAdam, ConFIG, M-ConFIG,
        PCGrad) gets the named, weighted loss terms of each step instead of their sum.
    backend : str or Backend
        Derivative engine: ``"autograd"`` (reverse mode, any network), ``"zcs"`` (zero coordinate shift) or
        ``"taylor"`` (a forward jet pass of a network with a jet; see :mod:`pinnkit.derivatives.taylor`);
        ``pinnkit.Backend("taylor", compile=True)`` runs the jet pass through ``torch.compile``.
    device, dtype
        Where and in which precision to train; the net and PDE parameters are moved there. ``dtype`` is
        ``torch.float32`` or ``torch.float64`` (or the string ``"float32"`` / ``"float64"``); half precision
        is refused (see :func:`~pinnkit.checks.check_dtype`), and so is a device this machine does not have.
    seed : int
        Seeds the sampling of collocation and condition points (the net's initialisation is the caller's).
    reference : (points, values), optional
        Reference solution; its relative L2 error is recorded as ``l2_relative_error`` in the history.
    distributed : DataParallel, bool or None
        Data-parallel training over the ranks of a process group (:mod:`pinnkit.distributed`): each rank evaluates
        its share of the points, and every rank takes the step one process would take on all of them. None (the
        default): when launched by ``torchrun`` / ``srun`` or inside a running process group, with strong
        scaling; ``False``: one process regardless; ``pinnkit.distributed.DataParallel(scaling="weak")``: the
        sampler's count of points per rank.
    """

    def __init__(self, problem: Problem, net: nn.Module, *, sampler: Sampler | None = None,
                 weighting: Weighting | None = None, optimizer: str | Callable = "adam", lr: float | None = None,
                 optimizer_options: Mapping | None = None, scheduler: Callable | None = None,
                 backend: str | Backend = "autograd", device: str | torch.device = "cpu",
                 dtype: torch.dtype | str = torch.float32, loss_weights: Mapping[str, float] | None = None,
                 seed: int = 0, reference: tuple[Any, Any] | None = None,
                 distributed: DataParallel | bool | None = None):
        device, dtype, seed = check_device(device), check_dtype(dtype), check_seed(seed)
        ranks = start_ranks(distributed, device)
        device = device if ranks is None else ranks.device
        objective = PINNObjective(problem, net, sampler=sampler, weighting=weighting, backend=backend,
                                  device=device, dtype=dtype, seed=seed, reference=reference, ranks=ranks)
        super().__init__(objective, optimizer=optimizer, lr=lr, optimizer_options=optimizer_options,
                         scheduler=scheduler, loss_weights=loss_weights, device=device, ranks=ranks)
        objective.loss_weights = self.loss_weights

    weighting = from_objective("weighting", "The loss weighting (None without one).")

    def losses(self) -> tuple[Tensor, dict[str, Tensor], dict[str, Tensor]]:
        """``(total loss, loss per term, per-point residuals)`` at the current points (with graph)."""
        evaluation = self.objective.evaluate(self.step)
        total = sum(self._weighted(evaluation.terms).values())
        return total, evaluation.terms, evaluation.details["residuals"]

    def predict(self, x) -> np.ndarray:
        """Network outputs ``(n, k)`` as a float64 numpy array at points ``x`` ``(n, d)`` (coordinate order of
        the problem)."""
        return self.objective.predict(x)

    def predict_residual(self, x) -> np.ndarray:
        """The PDE residual of the trained network at points ``x`` (n, d) as a float64 numpy array: (n,) for one PDE
        term, (n, m) for m terms in the order of ``problem.pde_terms`` (DeepXDE's ``predict(x, operator=pde)``)."""
        return self.objective.pde_residual(as_points(x, self.problem.domain, self.dtype, self.device)).double(
            ).cpu().numpy()
