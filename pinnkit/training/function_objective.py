"""An objective written as a function: :class:`FunctionObjective`, so that a loss that is not a
:class:`~pinnkit.Problem` still trains through the one :class:`~pinnkit.training.TrainingLoop`.

The high-dimensional examples are the case in point: their residual is written directly on a derivative
engine (``backend.engine(net, x)``, an STDE Laplacian of points drawn afresh each step from a law of their own),
and a PDE problem's domain, conditions and evaluator would add nothing. The loop still gives them what every
objective gets: any optimizer and schedule, the history that :func:`pinnkit.plotting.plot_history` draws, a
progress bar, callbacks, rollback to the last finite state on a NaN, and checkpoints that resume exactly.

What moves between steps besides the weights is the random stream the points come from, a
:class:`torch.Generator`. The objective keeps its state from before each evaluation's draws: that is its
snapshot, so that going back to the last finite state after a NaN also puts the stream where that state's step
drew its points (a retry sees the same points); the checkpoint holds it; a history record's extra evaluation and
the evaluations of a held objective (a quasi-Newton chunk's line search) all draw from the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from .fingerprint import load_net_weights, net_fingerprint
from .objective import Evaluation, Objective


def _names(value: Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{what} must be a sequence of non-empty names; got {value!r}")
    names = tuple(value)
    if len(set(names)) != len(names):
        raise ValueError(f"{what} must not repeat a name; got {names}")
    return names


class FunctionObjective(Objective):
    """The objective whose loss terms are ``loss(step) -> {name: scalar tensor}`` of the parameters of ``module``.

    Parameters
    ----------
    module : nn.Module
        What is trained (its parameters that require gradients); its weights are the checkpoint's.
    loss : callable
        ``step -> {name: tensor}``: the unweighted loss terms at the current parameters, each a scalar (shape
        ``()`` or any shape of one element) with its graph, with exactly the names of ``terms`` (``step`` is the
        number of steps taken so far).
    terms : sequence of str
        The names of the loss terms, in order (default ``("pde",)``).
    pde_terms : sequence of str, optional
        The terms that are PDE residuals (what ``"pde|rest"`` grouping of the multi-loss optimizers needs);
        default: ``terms`` if it is ``("pde",)``, else none.
    record : callable, optional
        ``() -> {name: float}``: scalars for every history record (a reference error, say), run without
        gradients; their names must not clash with the loop's own entries or the terms.
    generator : torch.Generator, optional
        The random stream ``loss`` draws its points from: snapshot, restored after a non-finite step and held in
        checkpoints (module docstring).
    """

    kind = "function"
    _RESERVED = frozenset({"step", "optimizer", "loss", "lr", "time"})

    def __init__(self, module: nn.Module, loss: Callable[[int], Mapping[str, Tensor]],
                 terms: Sequence[str] = ("pde",), *, pde_terms: Sequence[str] | None = None,
                 record: Callable[[], Mapping[str, float]] | None = None,
                 generator: torch.Generator | None = None):
        if not isinstance(module, nn.Module):
            raise ValueError(f"module must be a torch.nn.Module; got {type(module).__name__}")
        for value, name in ((loss, "loss"), (record, "record")):
            if value is not None and not callable(value):
                raise ValueError(f"{name} must be a function; got {type(value).__name__}")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise ValueError(f"generator must be a torch.Generator or None; got {type(generator).__name__}")
        self.module, self.loss, self.generator, self._record = module, loss, generator, record
        self._before: Tensor | None = None  # the stream before the last evaluation's draws
        self._held: Tensor | None = None  # the stream every evaluation starts from while held
        self._terms = _names(terms, "terms")
        clash = self._RESERVED & set(self._terms)
        if clash:
            raise ValueError(f"terms must not use the history's own names {sorted(clash)}")
        if pde_terms is None:
            pde_terms = self._terms if self._terms == ("pde",) else ()
        self._pde_terms = _names(pde_terms, "pde_terms") if pde_terms else ()
        unknown = set(self._pde_terms) - set(self._terms)
        if unknown:
            raise ValueError(f"pde_terms {sorted(unknown)} are not among the terms {self._terms}")

    @property
    def terms(self) -> tuple[str, ...]:
        return self._terms

    @property
    def pde_terms(self) -> tuple[str, ...]:
        return self._pde_terms

    def parameters(self) -> list[Tensor]:
        return [p for p in self.module.parameters() if p.requires_grad]

    def evaluate(self, step: int) -> Evaluation:
        if self.generator is not None:
            if self._held is not None:
                self.generator.set_state(self._held)
            self._before = self.generator.get_state()
        terms = self.loss(step)
        if not isinstance(terms, Mapping) or set(terms) != set(self._terms):
            got = sorted(terms) if isinstance(terms, Mapping) else type(terms).__name__
            raise ValueError(f"loss(step) must return a dict with exactly the terms {list(self._terms)}; got {got}")
        for name, value in terms.items():
            if not isinstance(value, Tensor) or value.numel() != 1:
                shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                raise ValueError(f"loss term {name!r} must be a scalar tensor; got {shape}")
        return Evaluation({name: terms[name].reshape(()) for name in self._terms})

    def evaluate_for_log(self, step: int) -> Evaluation:
        """:meth:`evaluate` with the random stream put back afterwards (a record must not advance it)."""
        if self.generator is None:
            return self.evaluate(step)
        state, before = self.generator.get_state(), self._before
        try:
            return self.evaluate(step)
        finally:
            self.generator.set_state(state)
            self._before = before

    def hold(self, hold: bool) -> None:
        self._held = self.generator.get_state() if hold and self.generator is not None else None

    def record(self) -> dict[str, float]:
        if self._record is None:
            return {}
        with torch.no_grad():
            values = self._record()
        if not isinstance(values, Mapping):
            raise ValueError(f"record() must return a dict of names to numbers; got {type(values).__name__}")
        clash = (self._RESERVED | set(self._terms)) & set(values)
        if clash:
            raise ValueError(f"record() must not use the names {sorted(clash)} (the history's own or the terms)")
        return {k: float(v) for k, v in values.items()}

    def snapshot(self) -> Any:
        """The stream as it was before the last evaluation drew its points (module docstring)."""
        if self.generator is None:
            return None
        return self.generator.get_state() if self._before is None else self._before.clone()

    def restore(self, snapshot: Any) -> None:
        if self.generator is not None and snapshot is not None:
            self.generator.set_state(snapshot)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"module": self.module.state_dict()}
        if self.generator is not None:
            state["generator"] = self.generator.get_state()
        return state

    def load_state_dict(self, state: dict[str, Any], source: str = "the state") -> None:
        if ("generator" in state) != (self.generator is not None):
            raise ValueError(f"{source} {'holds' if 'generator' in state else 'has no'} random-stream state; this "
                             f"objective has {'a' if self.generator is not None else 'no'} generator")
        load_net_weights(self.module, state["module"], source)
        if self.generator is not None:
            self.generator.set_state(state["generator"])

    def load_weights(self, state: dict[str, Any], source: str = "the state") -> None:
        load_net_weights(self.module, state["module"], source)

    def fingerprint(self) -> dict[str, Any]:
        return {"terms": list(self._terms), "module": net_fingerprint(self.module)}
