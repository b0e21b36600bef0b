r"""Multi-loss optimizers that turn the losses into one update direction and hand it to a torch optimizer.

:class:`DirectionOptimizer` is the shared part of ConFIG, M-ConFIG and PCGrad: the subclass computes a
direction ``d`` ``(D,)`` over all parameters (flattened in order) from the groups' losses, ``d`` is written into
the parameters' ``.grad`` (as views of one vector), and the *base* optimizer (Adam, SGD, ... given by name, class
or a function ``params -> Optimizer``) takes its ordinary step with it. The base's parameter groups are the
wrapper's (the same dicts: a learning-rate scheduler on the wrapper changes the base's ``lr``); its state is saved
under ``"base"`` in :meth:`state_dict`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import Tensor

from ..checks import check_choice, check_lr
from .gradients import unflatten
from .multi_loss import Groups, MultiLossOptimizer
from .quasi_newton import QuasiNewton

#: Base optimizers by name.
BASES: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop}

Base = str | type[torch.optim.Optimizer] | Callable[..., torch.optim.Optimizer]


def make_base(base: Base, params: Iterable, options: Mapping[str, Any]) -> torch.optim.Optimizer:
    """The base optimizer of ``params``: ``base`` a name of :data:`BASES`, an optimizer class, or a function
    ``params, **options -> Optimizer``; first-order optimizers only (no L-BFGS, no multi-loss optimizer)."""
    if isinstance(base, str):
        factory: Callable[..., torch.optim.Optimizer] = BASES[check_choice(base, "base", tuple(BASES))]
    elif callable(base):
        factory = base
    else:
        raise ValueError(f"base must be one of {list(BASES)}, a torch.optim.Optimizer class or a function "
                         f"params -> Optimizer; got {type(base).__name__}")
    if "lr" in options:
        check_lr(options["lr"])
    if isinstance(factory, type) and issubclass(factory, (torch.optim.LBFGS, QuasiNewton, MultiLossOptimizer)):
        raise ValueError(f"base must be a first-order torch optimizer (Adam, SGD, ...); got {factory.__name__}")
    try:
        optimizer = factory(params, **options)
    except TypeError as err:
        raise ValueError(f"base options {dict(options)} do not fit the base optimizer {base!r}: {err}") from err
    if not isinstance(optimizer, torch.optim.Optimizer) or isinstance(optimizer, (torch.optim.LBFGS,
                                                                                  QuasiNewton, MultiLossOptimizer)):
        raise ValueError(f"base must give a first-order torch.optim.Optimizer; got {type(optimizer).__name__}")
    return optimizer


class DirectionOptimizer(MultiLossOptimizer):
    """A multi-loss optimizer whose update is a base optimizer's step along a computed direction.

    Subclasses implement :meth:`_direction` (or override :meth:`_update` entirely, like M-ConFIG).
    """

    def __init__(self, params: Iterable, base: Base = "adam", *, groups: Groups | None = None,
                 gradients: str = "auto", **base_options: Any):
        inner = make_base(base, params, base_options)
        dtypes = {(p.dtype, p.device) for g in inner.param_groups for p in g["params"]}
        if len(dtypes) > 1:
            raise ValueError(f"params: {type(self).__name__} combines all parameters into one vector, so they must "
                             f"share one dtype and device; got {sorted(map(str, dtypes))}")
        super().__init__(inner.param_groups, inner.defaults)
        self.base = inner
        self.param_groups = inner.param_groups  # one list of the same dicts: schedulers reach the base
        self._init_losses(groups, gradients)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if "base" in self.__dict__:  # after __init__: the base owns the (shared) list of groups
            self.base.add_param_group(param_group)
        else:
            super().add_param_group(param_group)

    def _direction(self, losses: list[Tensor], params: list[Tensor]) -> Tensor | None:
        """The update direction ``(D,)`` over ``params`` (flattened in order), or ``None`` for no update."""
        raise NotImplementedError

    def _update(self, losses: list[Tensor]) -> None:
        params = self._params()
        direction = self._direction(losses, params)
        if direction is not None:
            self._step_base(direction, params)

    def _step_base(self, direction: Tensor, params: list[Tensor]) -> None:
        """Write ``direction`` ``(D,)`` into the parameters' ``.grad`` and take the base optimizer's step."""
        for p, d in zip(params, unflatten(direction.detach(), params), strict=True):
            p.grad = d
        self.base.step()

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["base"] = self.base.state_dict()
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        state_dict = dict(state_dict)
        if "base" not in state_dict:
            raise ValueError(f"this is not a {type(self).__name__} state: it has no 'base' optimizer state")
        base = state_dict.pop("base")
        super().load_state_dict(state_dict)
        self.base.load_state_dict(base)
        self.param_groups = self.base.param_groups
