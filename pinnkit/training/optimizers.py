"""The optimizers a training loop takes by name, and how one is built from what a user gives.

An optimizer is given as a name of :data:`OPTIMIZERS` (built with the loop's learning rate and any
``optimizer_options``), or as a function ``params -> torch.optim.Optimizer`` (e.g.
``functools.partial(torch.optim.Adam, betas=(0.9, 0.99))`` or a spec such as ``pk.optim.ConFIG("adam",
lr=1e-3)``). Three kinds of step follow from the optimizer built (:func:`step_kind`):

* ``"first_order"``: ``loss.backward()`` then ``optimizer.step()``;
* ``"multi_loss"``: a :class:`~pinnkit.optim.MultiLossOptimizer` gets the named, weighted terms and does its
  own backward pass(es);
* ``"quasi_newton"``: an optimizer whose ``step`` takes a closure and runs many iterations (L-BFGS, or the dense
  :class:`~pinnkit.optim.QuasiNewton` ones: BFGS, SSBFGS, SSBroyden), driven in chunks of
  :data:`QUASI_NEWTON_CHUNK` (25) iterations with the objective held fixed inside a chunk (progress, callbacks,
  checkpoints and the rollback to the last finite state between chunks), at most
  :data:`EVALUATIONS_PER_ITERATION` (25) loss evaluations per iteration. Their settings unless
  ``optimizer_options`` say otherwise are :data:`LBFGS_DEFAULTS` and :data:`QUASI_NEWTON_DEFAULTS`: ``lr=1`` (the
  unit quasi-Newton step), a strong-Wolfe line search, for L-BFGS ``history_size=50``, and no tolerance stops
  (``tolerance_grad=0``, ``tolerance_change=0``): a run ends after its iterations, or earlier only when no
  descent is possible in the parameters' precision, unless the caller sets a tolerance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from ..optim import BFGS, SOAP, SSBFGS, ConFIG, MConFIG, MultiAdam, MultiLossOptimizer, PCGrad, QuasiNewton, SSBroyden

#: Optimizers by name.
OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop,
    "lbfgs": torch.optim.LBFGS,
    "multiadam": MultiAdam, "config": ConFIG, "mconfig": MConFIG, "pcgrad": PCGrad,
    "soap": SOAP, "bfgs": BFGS, "ssbfgs": SSBFGS, "ssbroyden": SSBroyden,
}
#: L-BFGS settings unless ``optimizer_options`` say otherwise: a unit step with a strong-Wolfe line search, and no
#: tolerance stops (the loop stops when L-BFGS can make no more progress and says why).
LBFGS_DEFAULTS = {"lr": 1.0, "history_size": 50, "line_search_fn": "strong_wolfe", "tolerance_grad": 0.0,
                  "tolerance_change": 0.0}
#: Settings of the dense quasi-Newton optimizers (``"bfgs"``, ``"ssbfgs"``, ``"ssbroyden"``) unless
#: ``optimizer_options`` say otherwise: the unit quasi-Newton step and no tolerance stops, as for L-BFGS.
QUASI_NEWTON_DEFAULTS = {"lr": 1.0, "tolerance_grad": 0.0, "tolerance_change": 0.0}
#: The names of the quasi-Newton optimizers of :data:`OPTIMIZERS` in messages.
QUASI_NEWTON_NAMES = {"lbfgs": "L-BFGS", "bfgs": "BFGS", "ssbfgs": "SSBFGS", "ssbroyden": "SSBroyden"}
#: Quasi-Newton iterations per ``optimizer.step`` call: progress, callbacks and checks between chunks.
QUASI_NEWTON_CHUNK = 25
#: Line-search evaluations allowed per quasi-Newton iteration of a chunk.
EVALUATIONS_PER_ITERATION = 25


@dataclass
class OptimizerChoice:
    """What an optimizer was built from: ``spec`` (a name or a factory), the learning rate and the options.
    Two equal choices build the same optimizer, so a fit that asks for the current one keeps its state."""

    spec: str | Callable
    lr: float
    options: dict[str, Any] = field(default_factory=dict)

    def plain(self) -> dict[str, Any] | None:
        """The choice as plain data for a checkpoint, or None when it cannot be (a factory, or options that are
        not plain values): the loop then needs the same ``optimizer=`` to resume."""
        if not isinstance(self.spec, str) or not _plain(self.options):
            return None
        return {"name": self.spec, "lr": self.lr, "options": dict(self.options)}

    @classmethod
    def from_plain(cls, value: Mapping[str, Any] | None) -> OptimizerChoice | None:
        """The inverse of :meth:`plain` (None for None or a name not in :data:`OPTIMIZERS`)."""
        if not isinstance(value, Mapping) or value.get("name") not in OPTIMIZERS:
            return None
        return cls(value["name"], float(value["lr"]), dict(value["options"]))

    def same_as(self, other: OptimizerChoice) -> bool:
        same_spec = self.spec == other.spec if isinstance(self.spec, str) else self.spec is other.spec
        return same_spec and self.lr == other.lr and self.options == other.options


def _plain(value: Any) -> bool:
    """Whether ``value`` is made of numbers, strings, None, lists, tuples and str-keyed dicts only."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def with_given_lr(spec: str | Callable, lr: float, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with a learning rate the caller gave explicitly (``lr=`` of a trainer or of ``fit``).

    A first-order name uses it as it is (``options`` unchanged: the choice's ``lr`` is its learning rate); L-BFGS
    and the quasi-Newton methods take it as their step scale, in place of the 1 of their defaults; a factory
    builds its optimizer with a learning rate of its own, so an ``lr`` beside it is refused rather than ignored.
    """
    options = dict(options)
    if not isinstance(spec, str):
        raise ValueError(f"lr={lr!r}: an optimizer given as a factory ({spec!r}) builds itself with its own "
                         "learning rate; give it there (e.g. pk.optim.MultiAdam(lr=...)) and leave lr out")
    if spec in QUASI_NEWTON_NAMES:
        if "lr" in options and options["lr"] != lr:
            raise ValueError(f"lr={lr!r} and optimizer_options['lr']={options['lr']!r} disagree; give one of them")
        options["lr"] = lr
    return options


def check_optimizer_spec(spec: object) -> str | Callable:
    """``spec`` as a lower-case name of :data:`OPTIMIZERS` or a callable, else a ``ValueError``."""
    if isinstance(spec, str):
        key = spec.lower()
        if key not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or a function params -> optimizer; "
                             f"got {spec!r}")
        return key
    if callable(spec):
        return spec
    raise ValueError(f"optimizer must be a name or a function params -> optimizer; got {type(spec).__name__}")


def build_optimizer(choice: OptimizerChoice, params: Sequence[Tensor], device: torch.device
                    ) -> tuple[torch.optim.Optimizer, str]:
    """``(optimizer, name)`` for ``params``: a named one with ``choice.lr`` (L-BFGS: :data:`LBFGS_DEFAULTS`; BFGS,
    SSBFGS, SSBroyden: :data:`QUASI_NEWTON_DEFAULTS`) and ``choice.options``, or what the factory returns
    (which must be a ``torch.optim.Optimizer``)."""
    if not params:
        raise ValueError("nothing to train: no parameter of the network (or of the problem) requires gradients; "
                         "unfreeze some (requires_grad=True) or add trainable ones")
    options = dict(choice.options)
    if isinstance(choice.spec, str):
        key = choice.spec
        if key == "lbfgs":
            options = {**LBFGS_DEFAULTS, **options}
        elif key in QUASI_NEWTON_NAMES:
            options = {**QUASI_NEWTON_DEFAULTS, **options}
        else:
            options.setdefault("lr", choice.lr)
        if key in ("adam", "adamw") and device.type in ("cpu", "cuda"):
            # one fused kernel over all parameters: the updates of the per-tensor loop to round-off, in a
            # fraction of its time (a noticeable share of a small network's step)
            options.setdefault("fused", True)
        return OPTIMIZERS[key](list(params), **options), key
    optimizer = choice.spec(list(params))
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"the optimizer factory must return a torch.optim.Optimizer; got {type(optimizer).__name__}")
    return optimizer, type(optimizer).__name__.lower()


def step_kind(optimizer: torch.optim.Optimizer) -> str:
    """``"quasi_newton"``, ``"multi_loss"`` or ``"first_order"`` (see the module docstring)."""
    if isinstance(optimizer, (torch.optim.LBFGS, QuasiNewton)):
        return "quasi_newton"
    if isinstance(optimizer, MultiLossOptimizer):
        return "multi_loss"
    return "first_order"


def quasi_newton_iterations(optimizer: torch.optim.Optimizer) -> int:
    """The iterations a quasi-Newton optimizer has counted (its state, if any, is kept on the first parameter, as
    torch's L-BFGS does)."""
    return int(optimizer.state.get(optimizer.param_groups[0]["params"][0], {}).get("n_iter", 0))


def quasi_newton_stop_reason(optimizer: torch.optim.Optimizer, name: str, done: int) -> str:
    """Why a quasi-Newton chunk ended after ``done`` of its iterations: the gradient tolerance, the change
    tolerance (both the caller's stopping rules, ``optimizer_options``), or no descent possible in the parameters'
    precision."""
    group = optimizer.param_groups[0]
    grads = [p.grad for p in group["params"] if p.grad is not None]
    gmax = max(float(g.abs().max()) for g in grads) if grads else 0.0
    name = QUASI_NEWTON_NAMES.get(name, name)
    if gmax <= group.get("tolerance_grad", 0.0):
        return f"{name} converged: max |gradient| = {gmax:.3g} <= tolerance_grad = {group['tolerance_grad']:g}"
    change = group.get("tolerance_change", 0.0)
    if change > 0:
        return (f"{name} stopped after {done} iterations of its last chunk: an iteration changed the loss or the "
                f"parameters by <= tolerance_change = {change:g} (max |gradient| = {gmax:.3g})")
    dtype = group["params"][0].dtype
    hint = "" if dtype == torch.float64 else "; use dtype=torch.float64 for more"
    return (f"{name} stopped after {done} iterations of its last chunk: no descent possible in "
            f"{str(dtype).removeprefix('torch.')} (the loss and the step no longer change; max |gradient| = "
            f"{gmax:.3g}). Further iterations cannot improve this run{hint}.")


def check_options(options: object) -> dict[str, Any]:
    """``optimizer_options`` as a dict (``None`` is empty)."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise ValueError(f"optimizer_options must be a mapping of keyword arguments; got {type(options).__name__}")
    return dict(options)
