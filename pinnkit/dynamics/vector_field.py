"""Vector fields ``f(t, u)``: the one calling convention of :mod:`pinnkit.dynamics`.

Every right-hand side in this package, of an ODE ``du/dt = f(t, u)`` or of the drift and diffusion of an SDE,
is a module called as ``f(t, u)`` with ``t`` a 0-dimensional tensor and ``u`` a batch of states ``(B, d)``. The
wrappers here turn an ordinary network of the state (``net(u)``, e.g. :class:`pinnkit.nets.MLP`) into such a
field; :mod:`pinnkit.dynamics.backend` is the only place that knows how the solvers want to be called.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


class Autonomous(nn.Module):
    """``f(t, u) = net(u)``: a field that does not depend on time.

    ``net`` maps states ``(B, d)`` to rates ``(B, d)`` (drift) or, for a diffusion, ``(B, d)`` (diagonal noise) or
    ``(B, d, m)`` (general noise).
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        if not isinstance(net, nn.Module):
            raise ValueError(f"net must be a torch.nn.Module mapping states (B, d) to rates; got "
                             f"{type(net).__name__}")
        self.net = net

    def forward(self, t: Tensor, u: Tensor) -> Tensor:
        return self.net(u)


class TimeDependent(nn.Module):
    """``f(t, u) = net([t, u])``: the time is given to ``net`` as a first input column, ``(B, 1 + d)``."""

    def __init__(self, net: nn.Module):
        super().__init__()
        if not isinstance(net, nn.Module):
            raise ValueError(f"net must be a torch.nn.Module mapping (B, 1 + d) to rates; got {type(net).__name__}")
        self.net = net

    def forward(self, t: Tensor, u: Tensor) -> Tensor:
        time = torch.as_tensor(t, dtype=u.dtype, device=u.device).reshape(1, 1).expand(u.shape[0], 1)
        return self.net(torch.cat([time, u], dim=1))


class FunctionField(nn.Module):
    """A plain function ``fn(t, u)`` as a field module (it has no parameters of its own: closures over
    parameters are invisible to the adjoint method, so train modules instead)."""

    def __init__(self, fn: Callable[[Tensor, Tensor], Tensor]):
        super().__init__()
        if not callable(fn):
            raise ValueError(f"the vector field must be a callable f(t, u); got {type(fn).__name__}")
        self.fn = fn

    def forward(self, t: Tensor, u: Tensor) -> Tensor:
        return self.fn(t, u)


def as_field(field: nn.Module | Callable[[Tensor, Tensor], Tensor], name: str = "field") -> nn.Module:
    """``field`` as a module called ``field(t, u)``: modules are returned as they are, functions wrapped."""
    if isinstance(field, nn.Module):
        return field
    if callable(field):
        return FunctionField(field)
    raise ValueError(f"{name} must be an nn.Module or a callable f(t, u); got {type(field).__name__}")
