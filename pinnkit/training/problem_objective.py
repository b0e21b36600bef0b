"""What the objectives of a PDE problem share, PINN (:mod:`pinnkit.training.pinn`) and operator learning
(:mod:`pinnkit.training.operator`) alike.

* the network, moved to the trainer's device and precision;
* the trainable PDE parameters (:attr:`ProblemObjective.pde_parameters`, an ``nn.ParameterDict`` of 0-dim tensors
  in that precision), started from the problem's initial values: the problem itself never changes;
* the evaluator of the residuals (:meth:`~pinnkit.pde.Problem.evaluator`), built once;
* the conditions' points and the batch of a step (:meth:`ProblemObjective.current_batch`), rebuilt only when the
  sampler moves its points;
* the part of the state and the fingerprint that follow from the above;
* under data-parallel training (:mod:`pinnkit.distributed`), the :class:`~pinnkit.distributed.Ranks` it runs on:
  :attr:`ProblemObjective.sharded` tells the loop that its terms' gradients are this rank's shares.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ..derivatives.backend import Backend, as_backend
from ..derivatives.protocol import Compiled
from ..distributed.ranks import Ranks
from ..nets.registry import spec_or_none
from ..pde.specification import Batch
from ..sampling import Sampler
from .fingerprint import load_weights, problem_fingerprint
from .objective import Objective


class ProblemObjective(Objective):
    """The shared part of a problem's objective (module docstring); subclasses set :attr:`sampler`, then call
    :meth:`start` with the seed of the conditions' points."""

    sampler: Sampler

    def __init__(self, problem: Any, net: nn.Module, *, backend: str | Backend, kind: str, device: torch.device,
                 dtype: torch.dtype, seed: int, ranks: Ranks | None = None):
        self.problem, self.device, self.dtype, self.seed = problem, device, dtype, seed
        #: The ranks of data-parallel training (None: one process).
        self.ranks = ranks if ranks is not None and ranks.world_size > 1 else None
        self.net = net.to(device=device, dtype=dtype)
        problem.check_net(self.net, dtype, device)
        self.backend = as_backend(backend, kind).check(self.net, kind)
        #: The trainable PDE parameters, name -> 0-dim ``nn.Parameter`` in the training precision.
        self.pde_parameters = nn.ParameterDict({
            k: nn.Parameter(torch.tensor(v, dtype=dtype, device=device)) for k, v in problem.parameters.items()})
        self.evaluator = problem.evaluator(self.net, self.backend, self.pde_parameters)
        self.condition_points: dict[str, Tensor] = problem.sample_conditions(seed)
        self._batch: Batch | None = None
        self._batch_points: Tensor | None = None

    @property
    def sharded(self) -> bool:
        """Whether each rank evaluates its share of the terms (the loop then sums the gradients over the ranks)."""
        return self.ranks is not None

    @property
    def terms(self) -> tuple[str, ...]:
        return self.problem.terms

    @property
    def compiled(self) -> Compiled | None:
        """The backend's compiled cache (``Backend("taylor", compile=True)``), else ``None``."""
        return self.backend.compiled

    @property
    def pde_terms(self) -> tuple[str, ...]:
        return self.problem.pde_terms

    def parameters(self) -> list[Tensor]:
        """The network's parameters followed by the PDE parameters."""
        return list(self.net.parameters()) + list(self.pde_parameters.values())

    def parameter_values(self) -> dict[str, float]:
        """The PDE parameters' current values, name -> float."""
        return {k: float(p.detach()) for k, p in self.pde_parameters.items()}

    def current_batch(self, step: int) -> Batch:
        """The batch of step ``step``: the sampler's points and the conditions' (whose part is kept as long as the
        conditions' points are)."""
        points = self.sampler.points(step)
        if self._batch is None:
            self._batch = self.problem.batch(points, self.condition_points, dtype=self.dtype, device=self.device)
        elif points is not self._batch_points:  # the sampler moved its points: keep the conditions' part
            self._batch = self.problem.batch(points, reuse=self._batch)
        self._batch_points = points
        return self._batch

    def forget_batch(self, conditions: bool = False) -> None:
        """Rebuild the batch's PDE rows at the next evaluation (and its condition rows too with ``conditions``)."""
        self._batch_points = None
        if conditions:
            self._batch = None

    # ------------------------------------------------------------------ state
    def problem_state(self) -> dict[str, Any]:
        """The state of everything this class holds (subclasses add their own)."""
        return {"seed": self.seed, "net": self.net.state_dict(), "net_spec": spec_or_none(self.net),
                "condition_points": self.condition_points,
                "parameters": {k: v.detach().clone() for k, v in self.pde_parameters.items()},
                "dtype": str(self.dtype).removeprefix("torch.")}

    def load_problem_state(self, state: dict[str, Any]) -> None:
        """The inverse of :meth:`problem_state` (on a checkpoint already checked against :meth:`fingerprint`)."""
        self.net.load_state_dict(state["net"])
        self.condition_points = state["condition_points"]
        with torch.no_grad():
            for k, v in state["parameters"].items():
                self.pde_parameters[k].copy_(v)
        self.forget_batch(conditions=True)

    def fingerprint(self) -> dict[str, Any]:
        return problem_fingerprint(self.problem, self.net, self.dtype)

    def load_weights(self, state: dict[str, Any], source: str = "the state") -> None:
        load_weights(self.net, self.pde_parameters, state, source)


def mean_square(residual: Tensor, weights: Tensor | None = None, batch_axes: int = 1) -> Tensor:
    """A loss term: ``sum_j mean_i (w_i r_ij^2)``, the mean over the points (the first ``batch_axes`` axes: (N,)
    for a PINN, (M functions, N) for operator learning) summed over the term's columns (a trailing axis, if any).

    So a term of m columns weighs as much as m one-column terms. ``weights`` (N,) multiply the points' squares
    (broadcast over the columns); a 0-dim weight scales them all.
    """
    square = residual.square()
    if weights is not None:
        square = square * (weights if square.ndim == 1 or weights.ndim == 0 else weights[:, None])
    if square.ndim > batch_axes:
        return square.mean(dim=tuple(range(batch_axes))).sum()
    return square.mean()

