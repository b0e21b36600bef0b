r"""The jet protocol: how a network takes part in Taylor-mode derivatives.

A *jet* of a quantity ``y(x)`` at points ``x`` (N, d) is the dictionary :math:`\{\beta: \partial^\beta y\}` over a
set of multi-indices closed under sub-multisets (:func:`~pinnkit.derivatives.multi_index.jet_closure`). An entry
is an (N, k) tensor, a point-independent (k,) tensor (broadcast over the points), or ``None`` for an identically
zero derivative; ``()`` is always the value itself, (N, k).

A network supports Taylor mode (the ``"taylor"`` backend) by providing two methods, not by being of a listed type:

* ``jet(x, multi_indices, compiled=None) -> Jet``: the jet of its outputs at ``x`` over the closure of
  ``multi_indices`` (every entry of the closure present); ``compiled``, when given, is a :class:`Compiled` cache
  through which the network may run its pure jet arithmetic (``torch.compile``);
* ``check_jet(where)``: raise a ``ValueError`` naming ``where`` and what is unsupported (an activation without
  closed-form derivatives, an embedding, ...) or return ``None``.

pinnkit's :class:`~pinnkit.nets.MLP`, :class:`~pinnkit.nets.HardConstraint` (around a net that has a jet),
and :class:`~pinnkit.nets.LocalTime` implement it. An operator network (a
:class:`~pinnkit.nets.DeepONet`) takes part in the operator ``"taylor"`` backend through the *trunk-jet*
protocol: ``branch_features(v)`` (M, k, p), ``trunk_jet(x, multi_indices, compiled=None)`` ``{beta: (N, k, p)}``,
``bias`` (k,) and ``check_trunk_jet(where)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .multi_index import MultiIndex

#: A network's jet: multi-index -> the derivative of the outputs, a tensor (N, k) (or None where the network
#: knows it is zero).
Jet = dict[MultiIndex, Tensor | None]


class Compiled:
    """``torch.compile`` of pure jet functions, each compiled once per :class:`Compiled` (``dynamic=False``: the
    shapes of a training run do not change). A ``Backend("taylor", compile=True)`` owns one."""

    def __init__(self):
        self._functions: dict[Callable, Callable] = {}

    def __call__(self, function: Callable) -> Callable:
        """The compiled ``function`` (compiled on first use)."""
        if function not in self._functions:
            self._functions[function] = torch.compile(function, dynamic=False)
        return self._functions[function]

    def __repr__(self) -> str:
        return f"Compiled({len(self._functions)} functions)"


def supports_jet(net: object) -> bool:
    """Whether ``net`` provides the jet protocol (methods ``jet`` and ``check_jet``)."""
    return _provides(net, ("jet", "check_jet"))


def check_jet(net: object, where: str = "net") -> None:
    """A ``ValueError`` naming ``where`` unless ``net`` provides the jet protocol and accepts Taylor mode."""
    _check(net, where, supports_jet(net), "check_jet",
           "Taylor-mode derivatives need a network with a jet (methods jet(x, multi_indices) and check_jet(where), "
           "as pinnkit's MLP, HardConstraint and LocalTime have)", "backend='autograd' or 'zcs'")


def supports_trunk_jet(net: object) -> bool:
    """Whether ``net`` provides the trunk-jet protocol of operator networks (module docstring)."""
    return _provides(net, ("branch_features", "trunk_jet", "check_trunk_jet"))


def check_trunk_jet(net: object, where: str = "net") -> None:
    """A ``ValueError`` naming ``where`` unless ``net`` provides the trunk-jet protocol and accepts Taylor mode."""
    _check(net, where, supports_trunk_jet(net), "check_trunk_jet",
           "the operator 'taylor' backend needs a network whose coordinate derivatives act on a trunk (methods "
           "branch_features, trunk_jet and check_trunk_jet, as pinnkit's DeepONet has)", "backend='zcs'")


def _provides(net: object, methods: tuple[str, ...]) -> bool:
    return all(callable(getattr(net, name, None)) for name in methods)


def _check(net: object, where: str, supported: bool, method: str, need: str, instead: str) -> None:
    """Refuse ``net`` naming ``where`` and what it lacks, or let its own ``method(where)`` check the rest."""
    if not supported:
        raise ValueError(f"{where}: {need}; {type(net).__name__} has none (use {instead})")
    getattr(net, method)(where)
