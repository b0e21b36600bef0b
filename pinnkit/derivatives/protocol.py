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
  closed-form derivatives, an embedding, ...) or return ``None``;
* optionally ``jet_traceable``: ``True`` when the jet is forward arithmetic only, with no reverse-mode derivative
  inside, so that a whole residual evaluation through it can be one compiled graph (:func:`traceable_jet`).

pinnkit's :class:`~pinnkit.nets.MLP`, :class:`~pinnkit.nets.HardConstraint` (around a net that has a jet),
and :class:`~pinnkit.nets.LocalTime` implement it. An operator network (a
:class:`~pinnkit.nets.DeepONet`) takes part in the operator ``"taylor"`` backend through the *trunk-jet*
protocol: ``branch_features(v)`` (M, k, p), ``trunk_jet(x, multi_indices, compiled=None)`` ``{beta: (N, k, p)}``,
``bias`` (k,) and ``check_trunk_jet(where)``.
"""

from __future__ import annotations

import time
import types
from collections.abc import Callable

import torch
from torch import Tensor

from .multi_index import MultiIndex

#: A network's jet: multi-index -> the derivative of the outputs, a tensor (N, k) (or None where the network
#: knows it is zero).
Jet = dict[MultiIndex, Tensor | None]


class Compiled:
    """``torch.compile`` of pure functions, each compiled once per :class:`Compiled` (``dynamic=False``: the shapes
    of a training run do not change). A ``Backend("taylor", compile=True)`` owns one: the jet arithmetic of a
    network goes through it, and so does a PINN evaluator's whole residual evaluation
    (:meth:`pinnkit.pde.evaluator.Evaluator.residuals`: jets, residual and conditions as one graph, whose
    backward pass is compiled too); a compiled function called inside another is traced into the caller's graph.

    :attr:`compilations` counts the graphs compiled (a recompilation, after a guard failed, counts again) and
    :attr:`compile_seconds` the wall time of the :meth:`call` calls that compiled, so that a run can report its
    compile time apart from its steps and a test can fail on an unexpected recompilation.
    """

    def __init__(self):
        self._functions: dict[Callable, Callable] = {}
        #: Graphs compiled so far.
        self.compilations = 0
        #: Seconds spent in the :meth:`call` calls that compiled a graph.
        self.compile_seconds = 0.0

    def _inductor(self, graph, example_inputs):
        """The compiler of each graph: inductor, counted."""
        from torch._dynamo import lookup_backend  # what torch.compile's default backend="inductor" names
        from torch._functorch import config

        self.compilations += 1
        # Multi-loss optimizers take one backward pass per loss through the same graph (retain_graph=True), which
        # a backward compiled with donated buffers refuses (torch's error message names the switch); the AOT
        # autograd cache could hand back a graph compiled with them, so it is left out.
        with config.patch(donated_buffer=False, enable_autograd_cache=False):
            return lookup_backend("inductor")(graph, example_inputs)

    def __call__(self, function: Callable) -> Callable:
        """The compiled ``function`` (compiled on first use); ``function`` itself while a graph is being traced, so
        that the caller's graph takes it in."""
        if torch.compiler.is_compiling():
            return function
        if function not in self._functions:
            self._functions[function] = torch.compile(_own_copy(function), dynamic=False, backend=self._inductor)
        return self._functions[function]

    def call(self, function: Callable, *args):
        """``function(*args)`` compiled, adding the call's wall time to :attr:`compile_seconds` when it compiled."""
        compiled, before = self(function), self.compilations
        start = time.perf_counter()
        out = compiled(*args)
        if self.compilations != before:
            self.compile_seconds += time.perf_counter() - start
        return out

    @staticmethod
    def writable(tensors: list[Tensor]) -> list[Tensor]:
        """``tensors`` for a compiled function that writes them in place: each 0-dim one as a (1,) view of itself.

        In torch 2.13 an inductor graph on the CPU drops its in-place writes to a 0-dim float64 input (float32
        ones are kept, and so are writes through a view); the compiled optimizer updates pass their parameters and
        state through this."""
        return [t.view(1) if t.dim() == 0 else t for t in tensors]

    def __repr__(self) -> str:
        return f"Compiled({len(self._functions)} functions, {self.compilations} graphs)"


def _own_copy(function: Callable) -> Callable:
    """``function`` with a code object of its own (the same code, defaults and closure).

    torch.compile keeps its graphs, and its limit of ``torch._dynamo.config.recompile_limit`` graphs, on the code
    object: without a copy every :class:`Compiled` in a process would share them, so that the ninth network or
    problem shape in a notebook would run eagerly (with a warning) and :attr:`Compiled.compilations` would miss it.
    With a copy the graphs live, and are freed, with their :class:`Compiled`."""
    if not isinstance(function, types.FunctionType):
        return function
    copy = types.FunctionType(function.__code__.replace(), function.__globals__, function.__name__,
                              function.__defaults__, function.__closure__)
    copy.__kwdefaults__, copy.__qualname__ = function.__kwdefaults__, function.__qualname__
    copy.__dict__.update(function.__dict__)
    return copy


def traceable_jet(net: object) -> bool:
    """Whether ``net``'s jet is forward arithmetic only (its ``jet_traceable`` attribute; ``False`` without one).

    Then a compiled backend traces a PINN's whole residual evaluation as one graph; otherwise only the jet's own
    arithmetic is compiled (a reverse-mode derivative inside, as in :class:`~pinnkit.nets.HardConstraint`'s
    ``g`` and ``d``, would be differentiated again by the loss's backward pass, which torch's compiled graphs do
    not support)."""
    return getattr(net, "jet_traceable", False) is True


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
