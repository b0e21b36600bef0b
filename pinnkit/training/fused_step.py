r"""A whole Adam, ConFIG or MultiAdam step as one compiled graph: :class:`FusedAdamStep`, :class:`FusedMultiAdamStep`.

Eagerly, a first-order step of :class:`~pinnkit.training.TrainingLoop` is five pieces with Python and kernel
launches around each: the evaluation of the loss terms with their graph, the backward pass, the check that the
loss and the gradient are finite, the copy of the last finite state (:mod:`pinnkit.training.rollback`) and the
optimizer's update. On a small network the pieces cost more than their arithmetic. When the objective's terms
are a pure function of its parameters (:meth:`Objective.traced_terms
<pinnkit.training.Objective.traced_terms>`, a :class:`~pinnkit.training.objective.TracedTerms`) and the optimizer
is an Adam or AdamW that :class:`~pinnkit.training.compiled_update.CompiledUpdate` reproduces, the whole step is
one function of tensors, compiled as one graph through the objective's
:class:`~pinnkit.derivatives.protocol.Compiled` cache. With :math:`\theta` the parameters, :math:`m, v, t` Adam's
moments and step counts and :math:`\hat\theta, \hat m, \hat v, \hat t` the snapshot:

.. math::
    (g, L) &= \Big(\nabla_\theta L,\ L\Big), \qquad L(\theta) = \sum_k w_k L_k(\theta)
        \qquad \text{(torch.func.grad_and_value of torch.func.functional_call)}, \\
    f &= [L\ \text{finite}], \qquad ok = f \wedge [\text{every entry of}\ g\ \text{finite}], \\
    (\hat\theta, \hat m, \hat v, \hat t) &\leftarrow \operatorname{where}\big(f,\ (\theta, m, v, t),\
        (\hat\theta, \hat m, \hat v, \hat t)\big), \\
    (\theta, m, v, t) &\leftarrow \operatorname{where}\big(ok,\ \operatorname{Adam}(\theta, g, m, v, t),\
        (\theta, m, v, t)\big)

(Adam's update as in :mod:`pinnkit.training.compiled_update`). With :class:`~pinnkit.optim.ConFIG` around such an
Adam the graph takes the loss groups :math:`L_{(1)}, \dots, L_{(m)}` instead, their gradients :math:`g_{(i)}` by
one forward pass and :math:`m` pullbacks (``torch.func.vjp``), and steps along the conflict-free direction
:math:`d` of :func:`~pinnkit.optim.conflict_free.conflict_free_direction` in place of :math:`g` (a gradient
matrix with a non-finite entry is refused like a non-finite gradient). With :class:`~pinnkit.optim.MultiAdam`
(:class:`FusedMultiAdamStep`) the groups' gradients, found alike, update each group's own moments
(:func:`~pinnkit.optim.multiadam.multiadam_update`, guarded by the same ``ok``); its integer step counts stay on
the host and advance only when the update is taken.

So the snapshot is the state whose loss was last evaluated finite, taken inside the graph where it costs one more
write per tensor, and a step whose loss or gradient is not finite changes nothing; :meth:`FusedAdamStep.restore`
puts the snapshot back when the loop rolls back. The moments are the optimizer's own state tensors, so
checkpoints, resumption and a later eager step see the same optimizer.

What it leaves to the eager step (:meth:`FusedAdamStep.__call__` returns ``None``): a parameter's first step (the
optimizer creates its state in its own layout), a step count kept on the host (torch's non-fused CUDA Adam), an
optimizer :class:`CompiledUpdate` does not reproduce, and a parameter with a gradient hook (``register_hook``:
the graph's gradient is not the parameter's ``.grad`` and would bypass it). Parameters that no term depends on
have no state after the first step (Adam skips a parameter without a gradient) and are left out of the graph, as
Adam leaves them.

Traced under ``torch.func.functional_call``, torch 2.13's compiled graph summed ``torch.add(a, b, alpha=c)`` wrong
in an MLP's second derivatives (a residual off by 2e-3 in float64, where the eager and the plain compiled
evaluation agree to 1e-16); the jets therefore multiply and add (:func:`pinnkit.nets.taylor_mode.activation_jet`),
and the parity tests hold the fused step to the eager one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..derivatives.protocol import Compiled
from ..optim.config import ConFIG
from ..optim.conflict_free import conflict_free_direction
from ..optim.gradients import unflatten
from ..optim.multiadam import MultiAdam, multiadam_update
from .compiled_update import CompiledUpdate, adam_update
from .objective import Objective, TracedTerms
from .rollback import copy_all

#: Term name -> loss weight ``w_k``, in the order of the objective's terms.
TermWeights = tuple[tuple[str, float], ...]
#: Loss groups of a multi-loss optimizer, each a tuple of term names.
LossGroups = tuple[tuple[str, ...], ...]


def _terms(traced: TracedTerms, names: tuple[str, ...], values: tuple[Tensor, ...]
           ) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The objective's terms and details with the parameters named ``names`` set to ``values``."""
    return torch.func.functional_call(traced.module, dict(zip(names, values, strict=True)), traced.inputs)


def _total(terms: dict[str, Tensor], term_weights: TermWeights) -> Tensor:
    """``sum_k w_k L_k``, summed in the order the loop sums it."""
    return sum(w * terms[k] for k, w in term_weights)


def _gradient(traced: TracedTerms, names: tuple[str, ...], values: tuple[Tensor, ...], term_weights: TermWeights
              ) -> tuple[tuple[Tensor, ...], Tensor, dict[str, Tensor], dict[str, Any]]:
    """The gradient of the weighted loss at ``values``, the loss, the terms and the details."""
    def loss(values: tuple[Tensor, ...]) -> tuple[Tensor, tuple[dict[str, Tensor], dict[str, Any]]]:
        terms, details = _terms(traced, names, values)
        return _total(terms, term_weights), (terms, details)

    grads, (total, (terms, details)) = torch.func.grad_and_value(loss, has_aux=True)(values)
    return grads, total, terms, details


def _group_gradients(traced: TracedTerms, names: tuple[str, ...], values: tuple[Tensor, ...],
                     term_weights: TermWeights, groups: LossGroups
                     ) -> tuple[list[tuple[Tensor, ...]], Tensor, dict[str, Tensor], dict[str, Any]]:
    """Each loss group's gradient at ``values`` (a group's loss the sum of its weighted terms), from one forward
    pass and one pullback per group; with the weighted loss, the terms and the details."""
    def group_losses(values: tuple[Tensor, ...]) -> tuple[Tensor, tuple[dict[str, Tensor], dict[str, Any]]]:
        terms, details = _terms(traced, names, values)
        weighted = {k: w * terms[k] for k, w in term_weights}
        return torch.stack([sum(weighted[k] for k in group) for group in groups]), (terms, details)

    stacked, pullback, (terms, details) = torch.func.vjp(group_losses, values, has_aux=True)
    rows = [pullback(row)[0] for row in torch.eye(len(groups), dtype=stacked.dtype, device=stacked.device)]
    return rows, _total(terms, term_weights), terms, details


def _values(params: list[Tensor], scalar: tuple[bool, ...]) -> tuple[Tensor, ...]:
    """The parameters in their own shapes (a 0-dim one arrives as a (1,) view, ``scalar``)."""
    return tuple(p.reshape(()) if s else p for p, s in zip(params, scalar, strict=True))


def _keep_if(finite: Tensor, saved: list[Tensor], tensors: list[Tensor]) -> None:
    """The snapshot: ``saved[i] <- tensors[i]`` where the loss is ``finite``, else unchanged."""
    for s, x in zip(saved, tensors, strict=True):
        s.copy_(torch.where(finite, x, s))


def _status(total: Tensor, finite: Tensor, ok: Tensor) -> Tensor:
    """``(L, f, ok)`` in ``L``'s dtype: one tensor, read back in one synchronisation."""
    return torch.stack([total, finite.to(total.dtype), ok.to(total.dtype)])


def _all_finite(grads: list[Tensor]) -> Tensor:
    return torch.stack([g.isfinite().all() for g in grads]).all()


def _fused_adam_step(traced: TracedTerms, names: tuple[str, ...], scalar: tuple[bool, ...],
                     term_weights: TermWeights, groups: LossGroups | None, params: list[Tensor],
                     exp_avgs: list[Tensor], exp_avg_sqs: list[Tensor], steps: list[Tensor], hypers: list[Tensor],
                     saved: list[Tensor], decoupled: bool) -> tuple[Tensor, dict[str, Tensor], dict[str, Any]]:
    """One Adam step (module docstring) of the parameters ``params`` (named ``names`` in ``traced.module``), in
    place; with ``groups`` (ConFIG's loss groups) along the conflict-free direction of the groups' gradients
    instead of the gradient. Returns ``(status, terms, details)`` (:func:`_status`; the terms unweighted)."""
    values = _values(params, scalar)
    if groups is None:
        grads, total, terms, details = _gradient(traced, names, values, term_weights)
    else:  # the direction of pinnkit.optim.config
        rows, total, terms, details = _group_gradients(traced, names, values, term_weights, groups)
        matrix = torch.stack([torch.cat([g.reshape(-1) for g in row]) for row in rows])
        usable = matrix.isfinite().all()  # else no update, and no pseudo-inverse of non-finite numbers either
        direction = conflict_free_direction(torch.where(usable, matrix, torch.zeros_like(matrix)))
        grads = [torch.where(usable, g, torch.full_like(g, torch.nan)) for g in unflatten(direction, values)]
    grads = [g.reshape(p.shape) for g, p in zip(grads, params, strict=True)]
    finite = total.isfinite()
    ok = finite & _all_finite(grads)
    _keep_if(finite, saved, [*params, *exp_avgs, *exp_avg_sqs, *steps])
    adam_update(params, grads, exp_avgs, exp_avg_sqs, steps, hypers, decoupled, ok)
    return _status(total, finite, ok), terms, details  # auxiliary outputs of the transforms carry no graph


def _fused_multiadam_step(traced: TracedTerms, names: tuple[str, ...], scalar: tuple[bool, ...],
                          term_weights: TermWeights, groups: LossGroups, params: list[Tensor],
                          exp_avgs: list[Tensor], exp_avg_sqs: list[Tensor], numbers: list[Tensor],
                          weights: list[Tensor], saved: list[Tensor]
                          ) -> tuple[Tensor, dict[str, Tensor], dict[str, Any]]:
    """One MultiAdam step (module docstring) of ``params`` in place: the moments (n, *p.shape), ``numbers`` and
    ``weights`` as :func:`~pinnkit.optim.multiadam.multiadam_update` takes them. Returns as
    :func:`_fused_adam_step`."""
    rows, total, terms, details = _group_gradients(traced, names, _values(params, scalar), term_weights, groups)
    grads = [torch.stack([row[k] for row in rows]).reshape(m.shape) for k, m in enumerate(exp_avgs)]
    finite = total.isfinite()
    ok = finite & _all_finite(grads)
    _keep_if(finite, saved, [*params, *exp_avgs, *exp_avg_sqs])
    multiadam_update(params, grads, exp_avgs, exp_avg_sqs, numbers, weights, ok)
    return _status(total, finite, ok), terms, details


@dataclass
class FusedResult:
    """What a fused step returns to the loop: the weighted ``loss`` at the parameters before the step, whether it
    was ``finite``, whether the update was taken (``ok``: the gradient was finite too), the unweighted ``terms``
    (detached, by name) and the objective's ``details`` (detached)."""

    loss: float
    finite: bool
    ok: bool
    terms: dict[str, Tensor]
    details: dict[str, Any]


def _no_step_hooks(optimizer: torch.optim.Optimizer) -> bool:
    return not optimizer._optimizer_step_pre_hooks and not optimizer._optimizer_step_post_hooks


def _hooked(params: list[Tensor]) -> bool:
    """Whether a parameter has a gradient hook (``register_hook``), which the graph's gradient would bypass."""
    return any(p._backward_hooks or getattr(p, "_post_accumulate_grad_hooks", None) for p in params)


class FusedAdamStep:
    """The fused step of an Adam or AdamW, or of :class:`~pinnkit.optim.ConFIG` around one (module docstring),
    compiled through ``compiled``; the snapshot buffers are allocated once per set of parameters and reused.
    :func:`fused_step` builds the right one for an optimizer."""

    def __init__(self, optimizer: torch.optim.Optimizer, compiled: Compiled):
        if not self.supports(optimizer):
            raise ValueError(f"optimizer: {type(self).__name__} cannot take the steps of {type(optimizer).__name__} "
                             "(see its supports())")
        self.optimizer, self.compiled = optimizer, compiled
        self._saved: list[Tensor] | None = None
        self._targets: list[Tensor] = []
        #: Whether the snapshot buffers hold a state whose loss was finite (restorable).
        self.holds_snapshot = False
        #: Steps taken as one graph so far (those whose update was refused included).
        self.steps = 0
        self._groups: LossGroups | None = None  # the multi-loss optimizer's, found at the first step
        self._setup()

    def _setup(self) -> None:
        #: The Adam whose state the graph updates (ConFIG's base, or the optimizer itself).
        self.adam = self.optimizer.base if isinstance(self.optimizer, ConFIG) else self.optimizer
        #: The update's hyperparameters and the checks of what it reproduces.
        self.update = CompiledUpdate(self.adam, self.compiled)

    @staticmethod
    def supports(optimizer: torch.optim.Optimizer) -> bool:
        """Whether ``optimizer`` is an Adam or AdamW that :meth:`CompiledUpdate.supports`, or exactly
        :class:`~pinnkit.optim.ConFIG` around one, in one process and without step hooks."""
        if type(optimizer) is ConFIG:
            return (optimizer.gradient_sum is None and _no_step_hooks(optimizer)
                    and CompiledUpdate.supports(optimizer.base))
        return CompiledUpdate.supports(optimizer)

    def groups(self, objective: Objective) -> LossGroups | None:
        """The multi-loss optimizer's loss groups of ``objective``'s terms (None for Adam: the gradient of the
        sum)."""
        if not hasattr(self.optimizer, "loss_groups"):
            return None
        if self._groups is None:  # an objective's terms, and so its groups, do not change
            self._groups = tuple(tuple(g) for g in self.optimizer.loss_groups(objective.terms, objective.pde_terms))
        return self._groups

    def _prepare(self) -> tuple[list[Tensor], tuple] | None:
        """The parameters with a state (in group order) and the rest of the graph's inputs after the parameters
        and the groups (the last one the snapshot buffers); ``None`` while the eager step must run (no state
        yet, a step count on another device, a gradient hook)."""
        optimizer, state = self.adam, self.adam.state
        params, states, hypers = [], [], []
        for index, group in enumerate(optimizer.param_groups):
            mine = [p for p in group["params"] if p in state]
            if mine:
                params += mine
                states += [state[p] for p in mine]
                hypers += [self.update._hyperparameters(index, group, mine[0])] * len(mine)
        if not params or any(not s or s["step"].device != p.device for s, p in zip(states, params, strict=True)):
            return None
        if _hooked(params):
            return None
        writable = self.compiled.writable
        data = writable([p.detach() for p in params])
        exp_avgs, exp_avg_sqs = writable([s["exp_avg"] for s in states]), writable([s["exp_avg_sq"] for s in states])
        steps = writable([s["step"] for s in states])
        saved = self._buffers_for([*data, *exp_avgs, *exp_avg_sqs, *steps])
        return params, (data, exp_avgs, exp_avg_sqs, steps, hypers, saved, self.update.decoupled)

    def _graph(self):
        return _fused_adam_step

    def __call__(self, objective: Objective, step: int, term_weights: TermWeights) -> FusedResult | None:
        """Take step ``step`` of ``objective``, its terms weighted ``term_weights`` ((name, w_k) pairs); ``None``
        (nothing done, nothing advanced) where the eager step must run instead."""
        prepared = self._prepare()
        if prepared is None:
            return None
        traced = objective.traced_terms(step)
        if traced is None:
            return None
        params, inputs = prepared
        for p in params:
            p.grad = None
        with torch.no_grad():
            status, terms, details = self.compiled.call(
                self._graph(), traced, traced.names(params), tuple(p.dim() == 0 for p in params), term_weights,
                self.groups(objective), *inputs)
        self.steps += 1
        loss, finite, ok = status.tolist()
        finite, ok = finite == 1.0, ok == 1.0
        self.holds_snapshot = self.holds_snapshot or finite
        self._after(finite, ok)
        return FusedResult(loss, finite, ok, terms, details)

    def _after(self, finite: bool, ok: bool) -> None:
        """What the host keeps of a step the graph took (nothing for Adam: its step counts are tensors)."""

    def _buffers_for(self, targets: list[Tensor]) -> list[Tensor]:
        """Snapshot buffers like ``targets`` (new ones, holding nothing restorable, if their layout changed)."""
        if self._saved is None or len(self._saved) != len(targets) or any(
                s.shape != t.shape or s.dtype != t.dtype or s.device != t.device
                for s, t in zip(self._saved, targets, strict=True)):
            self._saved = [t.detach().clone() for t in targets]
            self.holds_snapshot = False
        self._targets = targets
        return self._saved

    def restore(self) -> None:
        """Put the snapshot (the parameters and moments of the last state whose loss was finite) back in place."""
        if self.holds_snapshot and self._saved is not None:
            copy_all(self._targets, self._saved)


class FusedMultiAdamStep(FusedAdamStep):
    """The fused step of a :class:`~pinnkit.optim.MultiAdam` (module docstring): its moments in the graph, its
    integer step counts on the host, advanced when the graph takes the update and restored with the snapshot."""

    def _setup(self) -> None:
        self._counts: list[tuple[dict, int]] = []  # (state, step count) of the step being taken
        self._saved_counts: list[tuple[dict, int]] = []  # of the snapshot

    @staticmethod
    def supports(optimizer: torch.optim.Optimizer) -> bool:
        """Whether ``optimizer`` is exactly a :class:`~pinnkit.optim.MultiAdam`, in one process and without step
        hooks."""
        return type(optimizer) is MultiAdam and optimizer.gradient_sum is None and _no_step_hooks(optimizer)

    def _graph(self):
        return _fused_multiadam_step

    def _prepare(self) -> tuple[list[Tensor], tuple] | None:
        optimizer, state = self.optimizer, self.optimizer.state
        params, states, numbers, weights = [], [], [], []
        for group in optimizer.param_groups:
            mine = [p for p in group["params"] if p in state]
            if not mine:
                continue
            n = state[mine[0]]["exp_avg"].shape[0]
            group_w = torch.tensor(MultiAdam.group_weights(group, n), dtype=mine[0].dtype, device=mine[0].device)
            for p in mine:
                params.append(p)
                states.append(state[p])
                numbers.append(MultiAdam.step_numbers(group, state[p]["step"] + 1, p))
                weights.append(group_w)
        if not params or _hooked(params):
            return None
        self._counts = [(s, s["step"]) for s in states]
        data = self.compiled.writable([p.detach() for p in params])
        exp_avgs, exp_avg_sqs = [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states]
        saved = self._buffers_for([*data, *exp_avgs, *exp_avg_sqs])
        return params, (data, exp_avgs, exp_avg_sqs, numbers, weights, saved)

    def _after(self, finite: bool, ok: bool) -> None:
        if finite:
            self._saved_counts = list(self._counts)
        if ok:
            for s, count in self._counts:
                s["step"] = count + 1

    def restore(self) -> None:
        super().restore()
        if self.holds_snapshot:
            for s, count in self._saved_counts:
                s["step"] = count


def fused_step(optimizer: torch.optim.Optimizer, compiled: Compiled) -> FusedAdamStep | None:
    """The fused step for ``optimizer`` (:class:`FusedAdamStep` or :class:`FusedMultiAdamStep`), or ``None`` for
    an optimizer neither reproduces."""
    for kind in (FusedAdamStep, FusedMultiAdamStep):
        if kind.supports(optimizer):
            return kind(optimizer, compiled)
    return None
