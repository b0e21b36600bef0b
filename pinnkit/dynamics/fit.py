"""The base of the fitting classes of :mod:`pinnkit.dynamics`: a fit is a :class:`~pinnkit.training.TrainingLoop`
whose objective is the fit's own named loss terms.

A fit names its loss terms (:attr:`DynamicsFit.terms`; :meth:`DynamicsFit.losses` returns them, the loss is
their sum unless ``loss_weights`` say otherwise) and its trainable tensors (the module's parameters that require
gradients, then :attr:`DynamicsFit.extra`, e.g. initial states); the loop does the rest as for every objective:
Adam or any first-order optimizer, the multi-loss optimizers, L-BFGS in chunks, a progress bar, a history of
records ``{"step", "optimizer", "loss", <terms>, "lr", "time", <parameters>}`` that
:func:`pinnkit.plotting.plot_history` draws, callbacks (:class:`~pinnkit.Checkpoint`,
:class:`~pinnkit.EarlyStopping`) and checkpoints of the full state (:meth:`~pinnkit.training.TrainingLoop.save`,
:meth:`~pinnkit.training.TrainingLoop.load_state`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from ..training import Evaluation, Objective, TrainingLoop
from ..training.fingerprint import load_net_weights, net_fingerprint


class FitObjective(Objective):
    """The :class:`~pinnkit.training.Objective` of a :class:`DynamicsFit`: its terms, tensors and state."""

    def __init__(self, fit: DynamicsFit):
        self.fit = fit

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self.fit.kind

    @property
    def terms(self) -> tuple[str, ...]:
        return self.fit.terms

    def parameters(self) -> list[Tensor]:
        return [p for p in self.fit.module.parameters() if p.requires_grad] + list(self.fit.extra.values())

    def evaluate(self, step: int) -> Evaluation:
        return Evaluation(self.fit.losses())

    def record(self) -> dict[str, float]:
        return self.fit.parameter_values()

    def state_dict(self) -> dict[str, Any]:
        return {"module": self.fit.module.state_dict(),
                "extra": {k: v.detach().clone() for k, v in self.fit.extra.items()}}

    def fingerprint(self) -> dict[str, Any]:
        return {"fit": type(self.fit).__name__, "terms": list(self.terms), "module": net_fingerprint(self.fit.module),
                "extra": sorted(self.fit.extra)}

    def load_weights(self, state: dict[str, Any], source: str = "the state") -> None:
        load_net_weights(self.fit.module, state["module"], source)

    def load_state_dict(self, state: dict[str, Any], source: str = "the state") -> None:
        extra = self.fit.extra
        if set(state["extra"]) != set(extra):
            raise ValueError(f"{source} has extra tensors {sorted(state['extra'])}; this fit has {sorted(extra)}")
        self.fit.module.load_state_dict(state["module"])
        with torch.no_grad():
            for k, v in state["extra"].items():
                extra[k].copy_(v)


class DynamicsFit(TrainingLoop):
    """Base of the fits: a subclass calls ``super().__init__(module)`` first, may then add trainable tensors
    outside the module to :attr:`extra`, sets :attr:`terms`, and ends its ``__init__`` with
    :meth:`start_training` (the optimizer is built from the tensors there). It implements :meth:`losses`."""

    kind = "fit"
    default_log_every = 50
    #: Names of the loss terms :meth:`losses` returns.
    terms: tuple[str, ...] = ()

    def __init__(self, module: nn.Module):
        if not isinstance(module, nn.Module):
            raise ValueError(f"module must be a torch.nn.Module; got {type(module).__name__}")
        self.module = module
        self.extra: dict[str, Tensor] = {}

    @property
    def progress_label(self) -> str:  # type: ignore[override]
        return self.kind

    def start_training(self, *, optimizer: str | Callable = "adam", lr: float | None = None,
                       loss_weights: Mapping[str, float] | None = None) -> None:
        """Build the loop around the fit's objective (the subclass's tensors are all in place)."""
        TrainingLoop.__init__(self, FitObjective(self), optimizer=optimizer, lr=lr, loss_weights=loss_weights)

    # ---------------------------------------------------------------- to implement
    def losses(self) -> dict[str, Tensor]:
        """The named loss terms of the current parameters (scalars), in the order of :attr:`terms`."""
        raise NotImplementedError

    def parameter_values(self) -> dict[str, float]:
        """Scalar parameters recorded in the history (e.g. physical parameters)."""
        return {}

    def loss(self) -> Tensor:
        """The loss ``sum_k w_k L_k`` of :meth:`losses`."""
        return sum(self._weighted(self.losses()).values())
