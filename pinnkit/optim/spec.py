"""Optimizer specs: an optimizer's arguments without its parameters, checked at once, built later.

``pk.optim.ConFIG("adam", lr=1e-3)`` or ``pk.optim.MultiAdam(lr=1e-3)`` (no parameters) give an
:class:`OptimizerSpec`; calling it with parameters builds the optimizer. That is the shape the Trainer's
``optimizer=`` argument takes (a function ``params -> Optimizer``), and the arguments are checked when the spec
is made, by building the optimizer once on a throw-away one-element parameter, so a bad value fails where it
was written with the optimizer's own message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


class OptimizerSpec:
    """``cls(params, *args, **kwargs)`` waiting for its ``params``.

    Parameters
    ----------
    cls : type
        A :class:`torch.optim.Optimizer` subclass taking ``params`` first.
    *args, **kwargs
        Its other arguments.
    """

    def __init__(self, cls: type[torch.optim.Optimizer], *args: Any, **kwargs: Any):
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
            raise ValueError(f"cls must be a torch.optim.Optimizer subclass; got {cls!r}")
        self.cls, self.args, self.kwargs = cls, args, kwargs
        probe = torch.zeros(1, requires_grad=True)
        cls([probe], *args, **kwargs)  # raises here, with the optimizer's message, if an argument is bad

    def __call__(self, params: Iterable) -> torch.optim.Optimizer:
        """The optimizer of ``params``."""
        return self.cls(params, *self.args, **self.kwargs)

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.cls.__name__}({', '.join(parts)})"


def params_given(args: tuple, kwargs: dict) -> bool:
    """Whether a call ``Cls(*args, **kwargs)`` names the parameters to optimise (first positional argument or
    ``params=``): parameters are an iterable (of tensors or of parameter-group dicts) and not a string."""
    if "params" in kwargs:
        return True
    return bool(args) and isinstance(args[0], Iterable) and not isinstance(args[0], (str, bytes))
