r"""A whole Adam step as one compiled graph: :class:`FusedAdamStep`.

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

(Adam's update as in :mod:`pinnkit.training.compiled_update`). So the snapshot is the state whose loss was last
evaluated finite, taken inside the graph where it costs one more write per tensor, and a step whose loss or
gradient is not finite changes nothing; :meth:`FusedAdamStep.restore` puts the snapshot back when the loop rolls
back. The moments are the ``torch.optim`` optimizer's own state tensors, so checkpoints, resumption and a later
eager step see the same optimizer.

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
from .compiled_update import CompiledUpdate, adam_update
from .objective import Objective, TracedTerms
from .rollback import copy_all


def _fused_adam_step(traced: TracedTerms, names: tuple[str, ...], scalar: tuple[bool, ...],
                     term_weights: tuple[tuple[str, float], ...], groups: tuple[tuple[str, ...], ...] | None,
                     params: list[Tensor], exp_avgs: list[Tensor], exp_avg_sqs: list[Tensor], steps: list[Tensor],
                     hypers: list[Tensor], saved: list[Tensor], decoupled: bool
                     ) -> tuple[Tensor, dict[str, Tensor], dict[str, Any]]:
    """One step (module docstring) of the parameters ``params`` (named ``names`` in ``traced.module``; a 0-dim one
    passed as a (1,) view, ``scalar``), in place; with ``groups`` (ConFIG's loss groups) along the conflict-free
    direction of the groups' gradients instead of the gradient. Returns ``(status, terms, details)``, ``status``
    holding ``(L, f, ok)`` in ``L``'s dtype and the terms unweighted."""
    def evaluate(values: tuple[Tensor, ...]) -> tuple[dict[str, Tensor], dict[str, Any]]:
        return torch.func.functional_call(traced.module, dict(zip(names, values, strict=True)), traced.inputs)

    def loss(values: tuple[Tensor, ...]) -> tuple[Tensor, tuple[dict[str, Tensor], dict[str, Any]]]:
        terms, details = evaluate(values)
        return sum(w * terms[k] for k, w in term_weights), (terms, details)

    def group_losses(values: tuple[Tensor, ...]) -> tuple[Tensor, tuple[dict[str, Tensor], dict[str, Any]]]:
        terms, details = evaluate(values)
        weighted = {k: w * terms[k] for k, w in term_weights}
        return torch.stack([sum(weighted[k] for k in group) for group in groups]), (terms, details)

    values = tuple(p.reshape(()) if s else p for p, s in zip(params, scalar, strict=True))
    if groups is None:
        grads, (total, (terms, details)) = torch.func.grad_and_value(loss, has_aux=True)(values)
    else:  # one forward pass, a backward pass per group, and the direction (pinnkit.optim.config)
        stacked, pullback, (terms, details) = torch.func.vjp(group_losses, values, has_aux=True)
        rows = [pullback(row)[0] for row in torch.eye(len(groups), dtype=stacked.dtype, device=stacked.device)]
        matrix = torch.stack([torch.cat([g.reshape(-1) for g in row]) for row in rows])
        usable = matrix.isfinite().all()  # else no update, and no pseudo-inverse of non-finite numbers either
        direction = conflict_free_direction(torch.where(usable, matrix, torch.zeros_like(matrix)))
        grads = [torch.where(usable, g, torch.full_like(g, torch.nan)) for g in unflatten(direction, values)]
        total = sum(w * terms[k] for k, w in term_weights)
    grads = [g.reshape(p.shape) for g, p in zip(grads, params, strict=True)]
    finite = total.isfinite()
    ok = finite & torch.stack([g.isfinite().all() for g in grads]).all()
    for s, x in zip(saved, [*params, *exp_avgs, *exp_avg_sqs, *steps], strict=True):
        s.copy_(torch.where(finite, x, s))
    adam_update(params, grads, exp_avgs, exp_avg_sqs, steps, hypers, decoupled, ok)
    status = torch.stack([total, finite.to(total.dtype), ok.to(total.dtype)])
    return status, terms, details  # the auxiliary outputs of grad_and_value carry no graph


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


class FusedAdamStep:
    """The fused step of ``optimizer`` (module docstring), compiled through ``compiled``; the snapshot buffers are
    allocated once per set of parameters and reused."""

    def __init__(self, optimizer: torch.optim.Optimizer, compiled: Compiled):
        if not self.supports(optimizer):
            raise ValueError(f"optimizer: the fused step needs torch.optim.Adam or AdamW, or ConFIG around one, "
                             f"that CompiledUpdate reproduces; got {type(optimizer).__name__}")
        #: The optimizer the loop steps (Adam, AdamW or ConFIG) and the Adam whose state the graph updates.
        self.optimizer, self.adam = optimizer, optimizer.base if isinstance(optimizer, ConFIG) else optimizer
        #: The update's hyperparameters and the checks of what it reproduces.
        self.update = CompiledUpdate(self.adam, compiled)
        self.compiled = compiled
        self._saved: list[Tensor] | None = None
        self._targets: list[Tensor] = []
        #: Whether the snapshot buffers hold a state whose loss was finite (restorable).
        self.holds_snapshot = False
        #: Steps taken as one graph so far (those whose update was refused included).
        self.steps = 0

    @staticmethod
    def supports(optimizer: torch.optim.Optimizer) -> bool:
        """Whether ``optimizer`` is one the fused step reproduces: an Adam or AdamW that
        :meth:`CompiledUpdate.supports`, or exactly :class:`~pinnkit.optim.ConFIG` around one, in one process and
        without step hooks."""
        if type(optimizer) is ConFIG:
            return (optimizer.gradient_sum is None and not optimizer._optimizer_step_pre_hooks
                    and not optimizer._optimizer_step_post_hooks and CompiledUpdate.supports(optimizer.base))
        return CompiledUpdate.supports(optimizer)

    def groups(self, objective: Objective) -> tuple[tuple[str, ...], ...] | None:
        """ConFIG's loss groups of ``objective``'s terms (None for Adam: the gradient of the sum)."""
        if self.optimizer is self.adam:
            return None
        return tuple(tuple(g) for g in self.optimizer.loss_groups(objective.terms, objective.pde_terms))

    def _state(self) -> tuple[list[Tensor], list[dict], list[Tensor]] | None:
        """The parameters with a state (in group order), their states and hyperparameters; ``None`` while the
        eager step must run (no state yet, or a step count on another device)."""
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
        if any(p._backward_hooks or getattr(p, "_post_accumulate_grad_hooks", None) for p in params):
            return None  # a gradient hook on a parameter: the graph's gradient would not pass through it
        return params, states, hypers

    def __call__(self, objective: Objective, step: int, term_weights: tuple[tuple[str, float], ...]
                 ) -> FusedResult | None:
        """Take step ``step`` of ``objective``, its terms weighted ``term_weights`` ((name, w_k) pairs); ``None``
        (nothing done, nothing advanced) where the eager step must run instead."""
        found = self._state()
        if found is None:
            return None
        traced = objective.traced_terms(step)
        if traced is None:
            return None
        params, states, hypers = found
        for p in params:
            p.grad = None
        names = traced.names(params)
        writable = self.compiled.writable
        data = writable([p.detach() for p in params])
        exp_avgs, exp_avg_sqs = writable([s["exp_avg"] for s in states]), writable([s["exp_avg_sq"] for s in states])
        steps = writable([s["step"] for s in states])
        targets = [*data, *exp_avgs, *exp_avg_sqs, *steps]
        self._buffers_for(targets)
        with torch.no_grad():
            status, terms, details = self.compiled.call(
                _fused_adam_step, traced, names, tuple(p.dim() == 0 for p in params), term_weights,
                self.groups(objective), data, exp_avgs, exp_avg_sqs, steps, hypers, self._saved,
                self.update.decoupled)
        self.steps += 1
        loss, finite, ok = status.tolist()
        finite = finite == 1.0
        self.holds_snapshot = self.holds_snapshot or finite
        return FusedResult(loss, finite, ok == 1.0, terms, details)

    def _buffers_for(self, targets: list[Tensor]) -> None:
        """Snapshot buffers like ``targets`` (new ones, holding nothing restorable, if their layout changed)."""
        if self._saved is None or len(self._saved) != len(targets) or any(
                s.shape != t.shape or s.dtype != t.dtype or s.device != t.device
                for s, t in zip(self._saved, targets, strict=True)):
            self._saved = [t.detach().clone() for t in targets]
            self.holds_snapshot = False
        self._targets = targets

    def restore(self) -> None:
        """Put the snapshot (the parameters and moments of the last state whose loss was finite) back in place."""
        if self.holds_snapshot and self._saved is not None:
            copy_all(self._targets, self._saved)
