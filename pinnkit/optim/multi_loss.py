r"""The base of optimizers that take the named loss terms, not one summed loss: :class:`MultiLossOptimizer`.

A multi-loss optimizer is a :class:`torch.optim.Optimizer` whose step takes a mapping ``{name: loss}`` of scalar
losses (already weighted), does its own backward pass(es) and updates the parameters:

.. code-block:: python

    opt = pk.optim.ConFIG(net.parameters(), "adam", lr=1e-3)
    for step in range(n):
        losses = {"pde": pde_loss(net), "bc": bc_loss(net)}
        opt.step_losses(losses, pde_terms=("pde",))

``opt.step(closure, pde_terms=...)`` with a closure returning that mapping does the same (the form learning-rate
schedulers and step hooks see: ``step_losses`` goes through ``step``). ``step()`` without a closure is an error:
the summed gradient in ``.grad`` is not enough for these methods.

Loss groups
-----------
The losses an optimizer balances are *groups* of terms, each group's loss the sum of its terms:

* ``"each"``: every term its own group (ConFIG, M-ConFIG, PCGrad by default);
* ``"pde|rest"``: the PDE residual terms | all boundary, initial and data terms (MultiAdam by default);
  needs ``pde_terms``;
* ``"all"``: one group of everything (MultiAdam is then Adam);
* an explicit sequence of groups, e.g. ``[["pde"], ["dirichlet_u_boundary", "initial_u"]]``: every term must be
  in exactly one group.

Groups keep the order of the loss mapping (explicit groups: their own order). The number of groups is fixed
at the first step (per-group state has that many rows).

Without parameters, ``Cls(*args, **kwargs)`` (e.g. ``pk.optim.ConFIG("adam", lr=1e-3)`` or
``pk.optim.MultiAdam()``) is an :class:`~pinnkit.optim.spec.OptimizerSpec`, a checked recipe
``params -> optimizer`` that the Trainer's ``optimizer=`` takes.

State
-----
``state_dict()`` is torch's (per-parameter state and parameter groups) plus ``"multi_loss"``: the group labels
and each method's own counters, as plain numbers, strings and tensors, so checkpoints load with
``torch.load(weights_only=True)`` and a run resumes exactly.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor

from ..checks import check_choice
from .gradients import METHODS, per_loss_gradients
from .spec import OptimizerSpec, params_given

if TYPE_CHECKING:
    from ..derivatives.protocol import Compiled

GROUPINGS = ("each", "pde|rest", "all")
GRADIENTS = ("auto", *METHODS)

Groups = str | Sequence[str | Sequence[str]]


class MultiLossOptimizer(torch.optim.Optimizer):
    """Base of the optimizers that take named losses (see the module docstring).

    Subclasses call :meth:`_init_losses` at the end of ``__init__`` and implement :meth:`_update`, which gets
    the groups' losses (with graph) and does the backward pass(es) and the update.
    """

    #: Grouping used when ``groups=None``.
    default_groups: ClassVar[str] = "each"
    #: Set by a data-parallel training loop (:mod:`pinnkit.distributed`): per-loss gradients -> their sums over
    #: the ranks, which every rank then combines alike. None: one process.
    gradient_sum: Callable[[list[Tensor]], list[Tensor]] | None = None
    #: Set by a training loop whose objective is compiled: the :class:`~pinnkit.derivatives.Compiled` cache
    #: through which an optimizer may run its update's arithmetic (MultiAdam does). None: eager.
    compiled: Compiled | None = None

    def __new__(cls, *args: Any, **kwargs: Any):
        if params_given(args, kwargs):
            return super().__new__(cls)
        return OptimizerSpec(cls, *args, **kwargs)

    def __getnewargs_ex__(self) -> tuple[tuple, dict]:
        return (), {"params": ()}  # copy and pickle re-create an optimizer, not a spec

    def __getstate__(self) -> dict[str, Any]:
        # torch keeps only defaults, state and param_groups; the losses' settings and counters belong too.
        # A learning-rate scheduler's wrapper of `step` is an instance attribute that must not travel.
        return {k: v for k, v in self.__dict__.items() if k not in ("step", "gradient_sum", "compiled")}

    def _init_losses(self, groups: Groups | None, gradients: str) -> None:
        self.groups = _check_groups(self.default_groups if groups is None else groups)
        self.gradients = check_choice(gradients, "gradients", GRADIENTS)
        self._labels: list[str] | None = None
        self._batched_failed = self._batched_works = False  # what "auto" learnt about batching

    # ------------------------------------------------------------------ groups
    def loss_groups(self, names: Sequence[str], pde_terms: Sequence[str] | None = None) -> list[tuple[str, ...]]:
        """The groups of the loss names ``names`` (see the module docstring); ``ValueError`` for unknown or
        missing names."""
        names = tuple(names)
        if not names:
            raise ValueError("losses must name at least one loss term")
        if self.groups == "each":
            return [(n,) for n in names]
        if self.groups == "all":
            return [names]
        if self.groups == "pde|rest":
            if pde_terms is None:
                raise ValueError("pde_terms must name the PDE residual terms for groups='pde|rest' (() if none)")
            pde = tuple(n for n in names if n in pde_terms)
            rest = tuple(n for n in names if n not in pde_terms)
            return [g for g in (pde, rest) if g]
        listed = [n for g in self.groups for n in g]
        for n in listed:
            if n not in names:
                raise ValueError(f"groups: unknown term {n!r}; the loss terms are {names}")
        for n in names:
            if n not in listed:
                raise ValueError(f"groups: term {n!r} is in no group; groups = {self.groups}")
        return list(self.groups)

    def check_terms(self, terms: Sequence[str], pde_terms: Sequence[str] = ()) -> None:
        """Raise a ``ValueError`` now if the loss terms ``terms`` do not fit this optimizer's groups (the
        Trainer calls this when it builds the optimizer)."""
        self.loss_groups(terms, pde_terms)

    # ------------------------------------------------------------------ the step
    def step(self, closure: Callable[[], Mapping[str, Tensor]] | None = None, *,
             pde_terms: Sequence[str] | None = None) -> Mapping[str, Tensor]:
        """One update from the named losses the ``closure`` returns (with graph; evaluated with grad enabled).

        Returns the losses. ``pde_terms`` names the PDE residual terms (needed for ``groups="pde|rest"``).
        """
        if closure is None:
            raise ValueError(f"{type(self).__name__}.step needs the named losses: call step_losses(losses, "
                             "pde_terms) or step(closure) with a closure returning {name: loss}")
        with torch.enable_grad():
            losses = closure()
        if not isinstance(losses, Mapping):
            raise ValueError(f"the closure must return a mapping {{name: scalar loss}}; got {type(losses).__name__}")
        groups = self.loss_groups(tuple(losses), pde_terms)
        labels = ["+".join(g) for g in groups]
        if self._labels is not None and labels != self._labels:
            raise ValueError(f"the loss groups changed from {self._labels} to {labels}; per-group state needs the "
                             "same groups at every step")
        group_losses = []
        for g in groups:
            for n in g:
                value = losses[n]
                if not isinstance(value, Tensor) or value.numel() != 1:
                    raise ValueError(f"loss {n!r} must be a scalar tensor; got "
                                     f"{tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__}")
            total = losses[g[0]].reshape(())
            for n in g[1:]:
                total = total + losses[n].reshape(())
            group_losses.append(total)
        self._labels = labels
        self._update(group_losses)
        return losses

    def step_losses(self, losses: Mapping[str, Tensor], pde_terms: Sequence[str]) -> None:
        """One update from the named, weighted losses (with graph); ``pde_terms`` names the PDE residual terms
        among them. Does the backward pass(es) itself: ``.grad`` need not be set."""
        self.step(lambda: losses, pde_terms=tuple(pde_terms))

    def _update(self, losses: list[Tensor]) -> None:
        """Backward pass(es) and update from the groups' losses (one scalar with graph per group)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers for subclasses
    def _params(self) -> list[Tensor]:
        """The parameters that require grad, group by group."""
        return [p for group in self.param_groups for p in group["params"] if p.requires_grad]

    def _across_ranks(self, grads: list[Tensor]) -> list[Tensor]:
        """``grads`` summed over the ranks of data-parallel training (as they are in one process)."""
        return grads if self.gradient_sum is None else self.gradient_sum(grads)

    def _loss_gradients(self, losses: list[Tensor], params: list[Tensor]) -> list[Tensor]:
        """Per-loss gradients ``(m, *p.shape)`` per parameter, by ``self.gradients`` (see
        :mod:`pinnkit.optim.gradients`), summed over the ranks of data-parallel training."""
        return self._across_ranks(self._local_loss_gradients(losses, params))

    def _local_loss_gradients(self, losses: list[Tensor], params: list[Tensor]) -> list[Tensor]:
        """:meth:`_loss_gradients` of this process. ``"auto"``: batched on accelerators (falling back to the loop,
        with a warning, if batching fails), the loop on the CPU, where it measured faster."""
        method = self.gradients
        if method == "auto":
            if not self._auto_prefers_batched(params) or self._batched_failed or len(losses) == 1:
                method = "loop"
            elif self._batched_works:
                method = "batched"
            else:  # first try: keep the graph so that the loop can still run if batching fails
                try:
                    grads = per_loss_gradients(losses, params, "batched", retain_graph=True)
                except RuntimeError as err:
                    warnings.warn(f"{type(self).__name__}: batched per-loss gradients failed ({err}); using one "
                                  "backward pass per loss from now on", RuntimeWarning, stacklevel=3)
                    self._batched_failed = True
                    method = "loop"
                else:
                    self._batched_works = True
                    return grads
        return per_loss_gradients(losses, params, method)

    @staticmethod
    def _auto_prefers_batched(params: list[Tensor]) -> bool:
        """``gradients="auto"`` batches on accelerators and loops on the CPU."""
        return any(p.device.type != "cpu" for p in params)

    # ------------------------------------------------------------------ state
    def _extra_state(self) -> dict[str, Any]:
        """Method-specific state beyond torch's per-parameter state (plain numbers, strings, tensors)."""
        return {}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`_extra_state` returned."""

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["multi_loss"] = {"labels": None if self._labels is None else list(self._labels),
                               **self._extra_state()}
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        state_dict = dict(state_dict)
        extra = dict(state_dict.pop("multi_loss", None) or {})
        labels = extra.pop("labels", None)
        super().load_state_dict(state_dict)
        self._labels = None if labels is None else list(labels)
        self._load_extra_state(extra)


def _check_groups(groups) -> str | tuple[tuple[str, ...], ...]:
    if isinstance(groups, str):
        return check_choice(groups, "groups", GROUPINGS)
    message = (f"groups must be one of {list(GROUPINGS)} or a sequence of groups of term names, e.g. "
               f"[['pde'], ['bc', 'ic']]; got {groups!r}")
    if not isinstance(groups, Sequence) or len(groups) == 0:
        raise ValueError(message)
    parsed = []
    for g in groups:
        g = (g,) if isinstance(g, str) else g
        if not isinstance(g, Sequence) or len(g) == 0 or not all(isinstance(n, str) for n in g):
            raise ValueError(message)
        parsed.append(tuple(g))
    names = [n for g in parsed for n in g]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"groups: terms {repeated} appear more than once; every term belongs to one group")
    return tuple(parsed)
