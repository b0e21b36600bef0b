r"""Derivative backends by name: :class:`Backend`, the one table :data:`BACKENDS`, :func:`as_backend` and
:func:`backend_names`.

A backend is a value: its name, and for ``"taylor"`` whether the jet pass is compiled. It checks a network
(:meth:`Backend.check`, a ``ValueError`` naming ``backend`` and what the network lacks) and builds the derivative
engine at a batch of points (:meth:`Backend.engine` for PINNs, :meth:`Backend.operator_engine` for operator
networks ``net(v, x)``). Problems of both kinds, their evaluators and the trainers take a name or a
:class:`Backend`; the command-line option ``--backend`` takes its choices from :func:`backend_names`.

======================  ===========  =====================================================================
name                    kinds        engine
======================  ===========  =====================================================================
``"autograd"``          pinn         :class:`~pinnkit.derivatives.reverse.AutogradDerivatives`: reverse mode, any net
``"zcs"``               pinn, op.    :class:`~pinnkit.derivatives.zcs.ZCSDerivatives`: zero coordinate shift
``"loop"``              operator     :class:`~pinnkit.derivatives.loop.LoopDerivatives`: one function at a time
``"replicated"``        operator     :class:`~pinnkit.derivatives.replicated.ReplicatedDerivatives`: copied points
``"taylor"``            pinn, op.    :class:`~pinnkit.derivatives.taylor.JetDerivatives` (a net with a jet) /
                                     :class:`~pinnkit.derivatives.operator_taylor.TaylorDerivatives` (a trunk jet)
``"stde"``              pinn         :class:`~pinnkit.derivatives.stde.StochasticDerivatives`: operators
                                     (``f.laplacian``) by random jets, the rest by reverse mode
======================  ===========  =====================================================================

``Backend("taylor", compile=True)`` runs the network's jet arithmetic through ``torch.compile`` (a
:class:`~pinnkit.derivatives.protocol.Compiled` cache owned by the backend value), and a PINN evaluator its whole
residual evaluation, forward and backward, as one graph; reverse-mode graphs cannot be compiled (torch's
AOT autograd has no double backward), so ``compile=True`` with another backend is a ``ValueError``.

``Backend("stde", directions=16, distribution=None, seed=None, per_point=False)`` estimates the operators a residual
applies (:mod:`pinnkit.derivatives.operators`) with ``directions`` random jets per step (``None``: exactly, by d
jets); ``seed`` seeds a generator per device that the backend value owns (``None``: torch's global generator);
these options belong to ``"stde"`` alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import torch
from torch import Tensor, nn

from ..checks import check_bool, check_choice, check_positive_int, check_seed
from .engine import Derivatives
from .loop import LoopDerivatives
from .multi_index import MultiIndex
from .operator_taylor import TaylorDerivatives
from .protocol import Compiled, check_jet, check_trunk_jet
from .replicated import ReplicatedDerivatives
from .reverse import AutogradDerivatives
from .stde import StochasticDerivatives
from .stochastic import DISTRIBUTIONS
from .taylor import JetDerivatives
from .zcs import ZCSDerivatives

#: The problem kinds a backend may serve: ``"pinn"`` (a net ``x -> u``) and ``"operator"`` (a net ``(v, x) -> u``).
KINDS = ("pinn", "operator")

#: Every backend's name and the problem kinds it serves, in the order of the command-line choices.
BACKENDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "autograd": ("pinn",),
    "zcs": ("pinn", "operator"),
    "loop": ("operator",),
    "replicated": ("operator",),
    "taylor": ("pinn", "operator"),
    "stde": ("pinn",),
})

_UNSET = object()


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    return kind


def backend_names(kind: str) -> tuple[str, ...]:
    """The names of the backends for problems of ``kind`` (``"pinn"`` or ``"operator"``), in table order."""
    _check_kind(kind)
    return tuple(name for name, kinds in BACKENDS.items() if kind in kinds)


class Backend:
    """A derivative backend: ``name`` (a key of :data:`BACKENDS`) and ``compile`` (``"taylor"`` only: compile the
    jet pass); for ``"stde"`` the estimator's ``directions`` (default 16; ``None`` for exact jets),
    ``distribution`` (``"rademacher"``, ``"gaussian"`` or ``None`` for each operator's default), ``seed`` and
    ``per_point`` (module docstring). Equal backends have the same name and options; a compiled backend keeps its
    compiled functions, a seeded ``"stde"`` backend its generators."""

    def __init__(self, name: str, compile: bool = False, *, directions=_UNSET, distribution: str | None = None,
                 seed: int | None = None, per_point: bool = False):
        if not isinstance(name, str) or name not in BACKENDS:
            raise ValueError(f"backend must be one of {tuple(BACKENDS)}; got {name!r}")
        if not isinstance(compile, bool):
            raise ValueError(f"compile must be True or False; got {compile!r}")
        if compile and name != "taylor":
            raise ValueError(f"compile=True needs backend 'taylor' (only a forward jet pass can go through "
                             f"torch.compile: reverse-mode and ZCS residuals are derivative graphs that the loss "
                             f"differentiates again, and torch 2.13 stops at 'torch.compile with aot_autograd does "
                             f"not currently support double backward'); got {name!r}")
        if name != "stde" and (directions is not _UNSET or distribution is not None or seed is not None
                               or per_point):
            raise ValueError(f"directions, distribution, seed and per_point are options of backend 'stde'; got "
                             f"backend {name!r}")
        self.name, self.compile = name, compile
        #: The problem kinds this backend serves (kept from the table, which a traced step does not read: torch's
        #: tracer refuses a mapping proxy under ``torch.func`` transforms).
        self.kinds: tuple[str, ...] = BACKENDS[name]
        #: The compiled jet functions (``None`` unless ``compile``).
        self.compiled: Compiled | None = Compiled() if compile else None
        self.directions: int | None = None
        self.distribution, self.seed, self.per_point = None, None, False
        self._generators: dict[torch.device, torch.Generator] = {}
        if name == "stde":
            directions = 16 if directions is _UNSET else directions
            self.directions = None if directions is None else check_positive_int(directions, "directions")
            self.distribution = None if distribution is None else check_choice(distribution, "distribution",
                                                                               DISTRIBUTIONS)
            self.seed = check_seed(seed, allow_none=True)
            self.per_point = check_bool(per_point, "per_point")

    def _options(self) -> tuple:
        return (self.name, self.compile, self.directions, self.distribution, self.seed, self.per_point)

    def __repr__(self) -> str:
        if self.name == "stde":
            extra = "".join(f", {k}={v!r}" for k, v in (("distribution", self.distribution), ("seed", self.seed))
                            if v is not None) + (", per_point=True" if self.per_point else "")
            return f"Backend('stde', directions={self.directions!r}{extra})"
        return f"Backend({self.name!r}" + (", compile=True)" if self.compile else ")")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Backend) and other._options() == self._options()

    def __hash__(self) -> int:
        return hash(self._options())

    def generator(self, device: torch.device) -> torch.Generator | None:
        """The ``"stde"`` backend's generator on ``device`` (seeded with :attr:`seed` when first used), or
        ``None`` (torch's global generator) without a seed."""
        if self.seed is None:
            return None
        device = torch.device(device)
        if device not in self._generators:
            self._generators[device] = torch.Generator(device).manual_seed(self.seed)
        return self._generators[device]

    def check_kind(self, kind: str) -> Backend:
        """``self`` if it serves problems of ``kind``, else a ``ValueError`` naming ``backend``."""
        if _check_kind(kind) not in self.kinds:
            article = "an" if kind == "operator" else "a"
            raise ValueError(f"backend must be one of {backend_names(kind)} for {article} {kind} problem; got "
                             f"{self.name!r}")
        return self

    def check(self, net: nn.Module, kind: str = "pinn", where: str = "net") -> Backend:
        """``self`` if it can differentiate ``net`` for a problem of ``kind``, else a ``ValueError`` naming
        ``backend`` and what ``net`` lacks (a jet for ``"taylor"``)."""
        self.check_kind(kind)
        if self.name == "taylor":
            try:
                (check_jet if kind == "pinn" else check_trunk_jet)(net, where)
            except ValueError as err:
                raise ValueError(f"backend 'taylor': {err}") from None
        return self

    def engine(self, net: nn.Module, x: Tensor, alphas: Iterable[MultiIndex] = ()) -> Derivatives:
        """The PINN engine for ``net`` (N, d) -> (N, k) at points ``x`` (N, d); ``alphas``: the multi-indices a
        Taylor-mode pass propagates (ignored by the others)."""
        self.check_kind("pinn")
        if self.name == "autograd":
            return AutogradDerivatives(net, x)
        if self.name == "zcs":
            return ZCSDerivatives(net, x)
        if self.name == "stde":
            return StochasticDerivatives(net, x, self.directions, self.distribution, self.generator(x.device),
                                         self.per_point)
        return JetDerivatives(net, x, alphas, self.compiled)

    def operator_engine(self, net: nn.Module, v: Tensor, x: Tensor, alphas: Iterable[MultiIndex] = ()
                        ) -> Derivatives:
        """The operator engine for ``net(v, x)``: sensor values ``v`` (M, m), shared points ``x`` (N, d), outputs
        (M, N, k); ``alphas`` as for :meth:`engine`."""
        self.check_kind("operator")
        if self.name == "zcs":
            return ZCSDerivatives(lambda p: net(v, p), x)
        if self.name == "loop":
            return LoopDerivatives(net, v, x)
        if self.name == "replicated":
            return ReplicatedDerivatives(net, v, x)
        return TaylorDerivatives(net, v, x, alphas, self.compiled)


def as_backend(value: str | Backend, kind: str | None = None) -> Backend:
    """``value`` as a :class:`Backend` (a name becomes ``Backend(name)``), checked to serve ``kind`` if given; a
    ``ValueError`` naming ``backend`` otherwise."""
    if isinstance(value, str):
        value = Backend(value)
    if not isinstance(value, Backend):
        raise ValueError(f"backend must be a name {tuple(BACKENDS)} or a pinnkit Backend; got "
                         f"{type(value).__name__}")
    return value if kind is None else value.check_kind(kind)
