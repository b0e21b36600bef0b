"""The protocol between the training loop and what it trains: an :class:`Objective`.

The loop (:class:`~pinnkit.training.TrainingLoop`) knows nothing of PDEs, operators or trajectories. It asks an
objective for

* its trainable tensors (:meth:`Objective.parameters`, a fixed list in a fixed order),
* the names of its loss terms (:attr:`Objective.terms`) and which of them are PDE residual terms
  (:attr:`Objective.pde_terms`, what the multi-loss optimizers' ``"pde|rest"`` grouping needs),
* one evaluation of the named terms at the current parameters and step (:meth:`Objective.evaluate`), each a
  scalar with its graph; the loop forms ``L = sum_k w_k L_k`` with its loss weights ``w_k``,

and tells it

* that an optimizer step has been taken with a given evaluation (:meth:`Objective.after_step`: samplers move
  their points there, weightings advance their schedules),
* to hold everything that depends on the evaluation fixed, or to let it move again (:meth:`Objective.hold`:
  a quasi-Newton line search needs one objective function for a whole chunk of iterations).

Before each step the loop keeps the last state whose loss was finite (the parameters, the optimizer and
:meth:`Objective.snapshot`) and goes back to it when an evaluation is not finite. Everything else an objective
reports is plain data: :meth:`Objective.record` adds scalars to each history record (PDE
parameters, sampler schedules, a reference error) and :meth:`Objective.state_dict` /
:meth:`Objective.load_state_dict` hold what a checkpoint needs to resume exactly (points, random streams,
parameters). PINN training (:mod:`pinnkit.training.pinn`), operator training (:mod:`pinnkit.training.operator`)
and trajectory / SDE fitting (:mod:`pinnkit.dynamics.fit`) are objectives.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from torch import Tensor, nn

if TYPE_CHECKING:
    from ..derivatives.protocol import Compiled


@dataclass
class Evaluation:
    """One evaluation of an objective: ``terms`` maps each loss term's name to its (unweighted) scalar loss with
    graph, in the order of :attr:`Objective.terms`; ``details`` is whatever the objective needs again in
    :meth:`Objective.after_step` (e.g. the per-point residuals for a sampler)."""

    terms: dict[str, Tensor]
    details: dict[str, Any] = field(default_factory=dict)
    #: Whether the terms' values are this rank's shares of the global values (:meth:`Objective.evaluate_shares`),
    #: to be summed over the ranks (:func:`pinnkit.distributed.shard.whole_values`), rather than the values.
    shares: bool = False


@dataclass(frozen=True)
class TracedTerms:
    """An objective's loss terms as a pure function of its parameters, for the fused step
    (:mod:`pinnkit.training.fused_step`): ``module(*inputs)`` returns ``(terms, details)`` as
    :meth:`Objective.evaluate` would (terms by name, unweighted scalars; details for :meth:`Objective.after_step`),
    reading the parameters only as attributes of ``module``'s submodules, so that ``torch.func.functional_call``
    can put other values in their place, and nothing else that changes between steps except ``inputs`` (tensors
    and plain data: a batch). ``parameter_names`` maps ``id(p)`` of each of ``module``'s parameters to its name
    (``named_parameters``); the same module and mapping serve every step."""

    module: nn.Module
    inputs: tuple
    parameter_names: dict[int, str]

    def names(self, params: list[Tensor]) -> tuple[str, ...]:
        """The names in :attr:`module` of the parameters ``params`` (a ``ValueError`` for one it does not hold)."""
        try:
            return tuple(self.parameter_names[id(p)] for p in params)
        except KeyError:
            raise ValueError("traced terms: a trained tensor is not a parameter of the traced module") from None


class Objective(abc.ABC):
    """What a :class:`~pinnkit.training.TrainingLoop` trains (see the module docstring)."""

    #: A short name of the objective's kind, stored in checkpoints and checked when they are loaded.
    kind: str = "objective"

    @property
    @abc.abstractmethod
    def terms(self) -> tuple[str, ...]:
        """Names of the loss terms, in the order :meth:`evaluate` returns them."""

    @property
    def pde_terms(self) -> tuple[str, ...]:
        """The terms that are PDE residuals (default none)."""
        return ()

    @property
    def sharded(self) -> bool:
        """Under data-parallel training (:mod:`pinnkit.distributed`): whether each rank's evaluation is its share
        of the terms (values global, gradients the rank's part: the loop sums the gradients over the ranks) rather
        than the whole objective on every rank (the loop averages them). Default False."""
        return False

    @property
    def compiled(self) -> Compiled | None:
        """The :class:`~pinnkit.derivatives.protocol.Compiled` cache of a compiled objective (its derivative
        backend's), through which the loop also compiles its Adam update
        (:mod:`pinnkit.training.compiled_update`); default ``None``: an eager update."""
        return None

    @property
    def traces_whole(self) -> bool:
        """Whether :meth:`traced_terms` can give the terms as one traceable function (fixed for the objective's
        life); the loop builds a fused step only then. Default False."""
        return False

    def traced_terms(self, step: int) -> TracedTerms | None:
        """The terms of step ``step`` as a :class:`TracedTerms` where they are a pure function of the parameters
        that one compiled graph can take whole with the gradient and the update (:mod:`pinnkit.training.fused_step`);
        default ``None``: the loop evaluates them with :meth:`evaluate`. Called in place of :meth:`evaluate`, so
        it advances what an evaluation advances; only where :attr:`traces_whole`."""
        del step
        return None

    @abc.abstractmethod
    def parameters(self) -> list[Tensor]:
        """The trainable tensors, always in the same order."""

    @abc.abstractmethod
    def evaluate(self, step: int) -> Evaluation:
        """The loss terms at the current parameters (with graph), for training step ``step`` (0-based: the number
        of steps taken so far)."""

    def evaluate_shares(self, step: int) -> Evaluation:
        """:meth:`evaluate`, but a sharded objective under data-parallel training may leave the terms' values as
        this rank's shares (``Evaluation.shares``): the loop then sums them over the ranks in the same all-reduce
        as the gradients, one collective per step instead of two. Default: :meth:`evaluate`."""
        return self.evaluate(step)

    def evaluate_for_log(self, step: int) -> Evaluation:
        """The loss terms for a history record outside a step (e.g. at the start of a fit without steps). It
        must not advance anything a step advances (batches of functions, random streams); default
        :meth:`evaluate`."""
        return self.evaluate(step)

    def after_step(self, step: int, evaluation: Evaluation) -> None:
        """Called once after the optimizer step that used ``evaluation`` (the 0-based ``step`` just taken; after
        a quasi-Newton chunk, the step count before it and the chunk's last evaluation). Default: nothing."""
        del step, evaluation

    def hold(self, hold: bool) -> None:
        """While ``hold`` is true, evaluations keep the same points, weights and batches (one objective function
        for a line search). Default: nothing to hold."""
        del hold

    def snapshot(self) -> Any:
        """The objective's state that moves during training apart from its parameters (points, random streams,
        weights), as copies that later steps cannot change; :meth:`restore` puts it back when a step ends
        non-finite. Default: nothing moves."""
        return None

    def restore(self, snapshot: Any) -> None:
        """Go back to a :meth:`snapshot`."""
        del snapshot

    def record(self) -> dict[str, float]:
        """Scalars added to every history record; default none."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint holds of the objective (plain data for a ``weights_only`` load); default nothing."""
        return {}

    def load_state_dict(self, state: dict[str, Any], source: str = "the state") -> None:
        """Restore :meth:`state_dict`; ``source`` names it in error messages."""
        del state, source

    def fingerprint(self) -> dict[str, Any]:
        """Plain values saying what this objective trains (problem, network, dtype: see
        :mod:`pinnkit.training.fingerprint`); a checkpoint is loaded only where they are equal. Default none."""
        return {}

    def load_weights(self, state: dict[str, Any], source: str = "the state") -> None:
        """Load only the trained weights of :meth:`state_dict` (``load_state(path, strict=False)``: transfer
        learning into another set-up); everything else starts afresh. Default: not supported."""
        del state
        raise ValueError(f"{type(self).__name__} cannot load the weights of {source} alone; load it with "
                         "strict=True into the set-up it was written for")
