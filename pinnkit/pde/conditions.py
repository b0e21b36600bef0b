"""Boundary, initial, periodic and data conditions, each a residual on its own set of points.

Every condition turns fields at its points into a per-point residual ``r`` whose mean square is its loss; a
residual of m columns (``ObservedData`` of m outputs, ``PeriodicBC`` of m derivative orders) has the sum of its
columns' mean squares, ``sum_j mean_i r_ij^2``, so that it weighs as much as m conditions of one column each:

=====================  ========================================================================
``DirichletBC``        ``r = u - g``
``NeumannBC``          ``r = du/dn - g``, with ``du/dn = n . grad u`` (outward unit normal ``n``)
``RobinBC``            ``r = alpha u + beta du/dn - g``
``PeriodicBC``         ``r = d^k u(x_lo) - d^k u(x_hi)`` on matched points of the faces ``c = min`` and
                       ``c = max`` of a coordinate ``c``, for each derivative order ``k`` asked for
``InitialCondition``   ``r = u(x, t0) - g(x)``, or ``r = u_t(x, t0) - g(x)`` with ``derivative=1``
``ObservedData``       ``r = u(x_i) - y_i`` at given points (inverse problems, data assimilation)
=====================  ========================================================================

``where`` chooses the boundary part: a :class:`~pinnkit.geometry.Boundary` (``rect.boundary("left")``), a face
name (``"left"``), a predicate on points, or ``None`` for the whole boundary. Values ``g`` are numbers,
callables of the points ``(N, d) -> (N,)`` or ``(N, 1)``, or arrays of one value per point when the points are
given explicitly (``points=``). Points are sampled once by the problem (``n`` of them, with ``method``) unless
given. The default ``n=None`` fits the domain: every point of a finite boundary part (the ends of an interval),
the one initial point of a bare :class:`~pinnkit.geometry.TimeDomain` (an ODE), :data:`DEFAULT_POINTS` otherwise.

A condition as built is *unbound*: a :class:`~pinnkit.pde.Problem` holds copies bound to its domain and outputs
(:meth:`Condition.bind`), named there, and leaves the conditions it was given as they were, so one condition can
go into several problems.
"""

from __future__ import annotations

import abc
import copy
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..checks import check_array, check_int, check_non_negative_int
from ..geometry import Boundary, Geometry, SpaceTimeDomain, TimeDomain
from ..geometry.unit_samples import check_count, check_method
from .fields import Fields
from .values import Value, check_value, evaluate_value

#: Points of a condition whose ``n`` is not given, on a boundary or initial set that is not finite.
DEFAULT_POINTS = 256


class Condition(abc.ABC):
    """A constraint on the solution at a set of points; see the module docstring."""

    kind = "condition"
    #: How data-parallel training splits the condition's points over the ranks (:mod:`pinnkit.distributed.shard`):
    #: ``"rows"`` (each point has its own residual row), ``"pairs"`` (point ``i`` and point ``n/2 + i`` make row
    #: ``i``) or ``"whole"`` (the residual couples all the points: every rank evaluates all of them).
    rows = "rows"
    #: Keys of :meth:`prepare`'s data that are not one row per point (kept whole when the points are split).
    shared_data: tuple[str, ...] = ()

    def __init__(self, output: str | None, n: int, method: str, points, name: str | None):
        self.output = output
        self.n = None if n is None else check_count(n, "n")  # None: resolved against the domain by bind()
        self.method = check_method(method)
        self.points = None if points is None else torch.as_tensor(
            check_array(points, f"{type(self).__name__}: points", ("N", "d")))
        if self.points is not None:
            self.n = len(self.points)
        self.name = name
        self.output_index = 0

    def bind(self, domain: Geometry, outputs: tuple[str, ...]) -> Condition:
        """A copy of this condition bound to a problem's ``domain`` and ``outputs``: its output (and the index of
        its column), its part of the boundary, ... resolved (called by :class:`~pinnkit.pde.Problem`, which
        holds the copy and names it). ``self`` is left unchanged; the copy shares its points and values."""
        bound = copy.copy(self)
        bound._resolve(domain, outputs)
        return bound

    def _resolve(self, domain: Geometry, outputs: tuple[str, ...]) -> None:
        """Set the fields that depend on the problem, on the fresh copy that :meth:`bind` makes (subclasses
        extend this; only ever called on that copy, so it may assign attributes but must not change objects
        shared with the unbound condition in place)."""
        if self.output is None:
            if len(outputs) > 1:
                raise ValueError(f"{type(self).__name__}: output must be named when the problem has several "
                                 f"outputs {outputs}")
            self.output = outputs[0]
        if self.output not in outputs:
            raise ValueError(f"{type(self).__name__}: unknown output {self.output!r}; the problem's outputs are "
                             f"{outputs}")
        self.output_index = outputs.index(self.output)
        if self.points is not None and self.points.shape[1] != domain.dim:
            raise ValueError(f"{type(self).__name__}: points must have {domain.dim} columns "
                             f"{domain.names}; got {self.points.shape[1]}")

    def default_name(self) -> str:
        return f"{self.kind}_{self.output}"

    def windowed(self, domain: SpaceTimeDomain, initial: Value | None = None) -> Condition | None:
        """This condition for a time window ``domain`` of the problem's domain (time-marching), a new object
        for the window's problem to bind; None if it has no part there. ``initial`` replaces the value of an
        initial condition."""
        del initial
        return copy.copy(self)

    @abc.abstractmethod
    def sample(self, domain: Geometry, seed: np.random.Generator) -> Tensor:
        """Float64 points of this condition (fixed ones if given)."""

    def prepare(self, points: Tensor) -> dict[str, Tensor]:
        """Everything about the points that does not change during training (targets, normals)."""
        return {}

    @abc.abstractmethod
    def residual(self, f: Fields, data: dict[str, Tensor]) -> Tensor:
        """Per-point residual (N,) or (N, m) from the fields at this condition's points."""


class _OnBoundary(Condition):
    """Shared part of the boundary conditions: where they hold and the value they impose."""

    def __init__(self, where, value: Value, output, n, method, points, name):
        super().__init__(output, n, method, points, name)
        self.where, self.value = where, check_value(value, f"{type(self).__name__}: value")
        self._where_spec = where  # as given; bind() resolves it against a domain (in the bound copy's `where`)
        if isinstance(value, (Tensor, np.ndarray)) and np.ndim(value) > 0 and points is None:
            raise ValueError(f"{type(self).__name__}: a value array needs the points it belongs to (points=)")

    def _resolve(self, domain, outputs):
        super()._resolve(domain, outputs)
        self._resolve_where(domain)
        if self.n is None:
            self.n = self.where.point_count() or DEFAULT_POINTS

    def _resolve_where(self, domain):
        where = self._where_spec
        if isinstance(where, Boundary) and _same_space(where.geometry, domain):
            where = Boundary(domain, where.faces, where.predicates)  # another time window of the same domain
        if where is None:
            self.where = domain.boundary
        elif isinstance(where, str):
            self.where = domain.boundary(where)
        elif isinstance(where, Boundary):
            if where.geometry is not domain and where.geometry is not getattr(domain, "geometry", None):
                raise ValueError(f"{type(self).__name__}: where={where!r} belongs to another geometry than the "
                                 f"problem's domain {domain!r}")
            self.where = where
            if where.geometry is not domain:  # a spatial part used on a space-time domain
                self.where = Boundary(domain, where.faces, tuple(_spatial(p) for p in where.predicates))
        elif callable(where):
            self.where = domain.boundary(where)
        else:
            raise ValueError(f"{type(self).__name__}: where must be a Boundary, a face name, a predicate or None; "
                             f"got {type(where).__name__}")

    def default_name(self) -> str:
        return f"{self.kind}_{self.output}_{self.where.label}"

    def sample(self, domain, seed):
        return self.points if self.points is not None else self.where.sample(self.n, self.method, seed=seed,
                                                                            dtype=torch.float64)

    def prepare(self, points):
        return {"value": evaluate_value(self.value, points, type(self).__name__)}


def _same_space(a: Geometry, b: Geometry) -> bool:
    """Whether ``a`` and ``b`` are distinct space-time domains over the same spatial geometry."""
    return a is not b and isinstance(a, SpaceTimeDomain) and isinstance(b, SpaceTimeDomain) and \
        a.geometry is b.geometry and a.names == b.names


def _spatial(predicate):
    return lambda x: predicate(x[:, :-1])


class DirichletBC(_OnBoundary):
    """``u = g`` on ``where``."""

    kind = "dirichlet"

    def __init__(self, where=None, value: Value = 0.0, *, output: str | None = None, n: int | None = None,
                 method: str = "sobol", points=None, name: str | None = None):
        super().__init__(where, value, output, n, method, points, name)

    def residual(self, f, data):
        return f.d(self.output) - data["value"]


class NeumannBC(_OnBoundary):
    """``du/dn = g`` on ``where`` (outward unit normal ``n``)."""

    kind = "neumann"
    shared_data = ("axes",)

    def __init__(self, where=None, value: Value = 0.0, *, output: str | None = None, n: int | None = None,
                 method: str = "sobol", points=None, name: str | None = None):
        super().__init__(where, value, output, n, method, points, name)

    def prepare(self, points):
        data = super().prepare(points)
        normal = self.where.geometry.boundary_normal(points)
        data["normal"] = normal
        data["axes"] = torch.nonzero(normal.abs().sum(dim=0) > 0).flatten()
        return data

    def normal_derivative(self, f: Fields, data) -> Tensor:
        names = self.where.geometry.names
        # the axes some normal has a component along (read off the data: eager only); a compiled graph takes
        # every axis, whose zero components add exact zeros, rather than a value that depends on the data
        axes = range(len(names)) if torch.compiler.is_compiling() else data["axes"].tolist()
        return sum(data["normal"][:, i] * f.d(self.output, names[i]) for i in axes)

    def residual(self, f, data):
        return self.normal_derivative(f, data) - data["value"]


class RobinBC(NeumannBC):
    """``alpha u + beta du/dn = g`` on ``where``; ``alpha`` and ``beta`` are numbers or callables of the points."""

    kind = "robin"

    def __init__(self, where=None, alpha: Value = 1.0, beta: Value = 1.0, value: Value = 0.0, *,
                 output: str | None = None, n: int | None = None, method: str = "sobol", points=None,
                 name: str | None = None):
        super().__init__(where, value, output=output, n=n, method=method, points=points, name=name)
        self.alpha, self.beta = check_value(alpha, "RobinBC: alpha"), check_value(beta, "RobinBC: beta")

    def prepare(self, points):
        data = super().prepare(points)
        data["alpha"] = evaluate_value(self.alpha, points, "RobinBC alpha")
        data["beta"] = evaluate_value(self.beta, points, "RobinBC beta")
        return data

    def residual(self, f, data):
        return data["alpha"] * f.d(self.output) + data["beta"] * self.normal_derivative(f, data) - data["value"]


class PeriodicBC(Condition):
    """``d^k u / dc^k`` equal on the faces ``c = min`` and ``c = max`` of coordinate ``c``, for ``k`` in ``orders``.

    The problem samples ``n`` matched pairs (same other coordinates on both faces; default one pair on a 1-D
    domain, :data:`DEFAULT_POINTS` otherwise); the domain must be a box (or a box times a time interval) along
    ``c``.
    """

    kind = "periodic"
    rows = "pairs"

    def __init__(self, coordinate: str, *, output: str | None = None, orders: tuple[int, ...] = (0,),
                 n: int | None = None, method: str = "sobol", name: str | None = None):
        super().__init__(output, n, method, None, name)
        self.coordinate = coordinate
        self.orders = tuple(check_non_negative_int(k, f"PeriodicBC: orders[{i}]") for i, k in enumerate(orders))
        if not self.orders:
            raise ValueError(f"PeriodicBC: orders must be one or more derivative orders; got {orders!r}")

    def _resolve(self, domain, outputs):
        super()._resolve(domain, outputs)
        domain._axis(self.coordinate)  # raises a clear error for an unknown coordinate
        if self.n is None:  # a 1-D domain's faces are single points: one pair
            self.n = 1 if domain.dim == 1 else DEFAULT_POINTS

    def default_name(self):
        return f"periodic_{self.output}_{self.coordinate}"

    def sample(self, domain, seed):
        lo, hi = domain.sample_periodic_pairs(self.n, self.coordinate, self.method, seed=seed,
                                              dtype=torch.float64)
        return torch.cat([lo, hi])

    def residual(self, f, data):
        half = len(f.points) // 2
        columns = []
        for k in self.orders:
            values = f.d(self.output, *([self.coordinate] * k))
            columns.append(values[..., :half] - values[..., half:])
        return torch.stack(columns, dim=-1) if len(columns) > 1 else columns[0]


class InitialCondition(Condition):
    """``u(x, t0) = g(x)`` (``derivative=0``) or ``u_t(x, t0) = g(x)`` (``derivative=1``) on a space-time domain;
    on a bare :class:`~pinnkit.geometry.TimeDomain` (an ODE system) ``u(t0) = g`` or ``u'(t0) = g`` at its one
    initial point (a second-order ODE takes both: one condition with each ``derivative``).

    ``value`` is a number or a callable of the points ``(N, d)`` (space and time columns).
    """

    kind = "initial"

    def __init__(self, value: Value = 0.0, *, output: str | None = None, derivative: int = 0, n: int | None = None,
                 method: str = "sobol", points=None, name: str | None = None):
        super().__init__(output, n, method, points, name)
        self.value = check_value(value, "InitialCondition: value")
        self.derivative = check_int(derivative, "InitialCondition: derivative (0 the value, 1 the first time "
                                                "derivative)", minimum=0, maximum=1)

    def _resolve(self, domain, outputs):
        super()._resolve(domain, outputs)
        if isinstance(domain, TimeDomain):  # an ODE: the one point t0
            if self.n not in (None, 1) and self.points is None:
                raise ValueError(f"InitialCondition: n must be 1 on a TimeDomain (its one initial point t0 = "
                                 f"{domain.t0}); got n={self.n}")
            self.n = 1
        elif not isinstance(domain, SpaceTimeDomain):
            raise ValueError(f"InitialCondition needs a time: a TimeDomain (an ODE) or a space-time domain (geometry "
                             f"* TimeDomain); got {domain!r}")
        elif self.n is None:
            self.n = DEFAULT_POINTS
        self.time_name = domain.names[-1]

    def default_name(self):
        return f"initial_{self.output}" + ("_t" if self.derivative else "")

    def windowed(self, domain, initial=None):
        window = copy.copy(self)
        if initial is not None:
            window.value = initial
        if self.points is not None:  # the same spatial points at the window's start
            window.points = self.points.clone()
            window.points[:, -1] = domain.time.t0
        return window

    def sample(self, domain, seed):
        if self.points is not None:
            return self.points
        if isinstance(domain, TimeDomain):
            return torch.tensor([[domain.t0]], dtype=torch.float64)
        return domain.sample_initial(self.n, self.method, seed=seed, dtype=torch.float64)

    def prepare(self, points):
        return {"value": evaluate_value(self.value, points, "InitialCondition")}

    def residual(self, f, data):
        u = f.d(self.output, self.time_name) if self.derivative else f.d(self.output)
        return u - data["value"]


class ObservedData(Condition):
    """``u(x_i) = y_i`` at given points: ``points`` (N, d), ``values`` (N, m) for the outputs ``outputs``.

    Its loss is ``sum_j mean_i (u_j(x_i) - y_ij)^2``: each observed output counts as a condition of its own, as
    m DeepXDE ``PointSetBC`` objects (one per output) do.
    """

    kind = "data"

    def __init__(self, points, values, *, outputs: str | tuple[str, ...] | None = None, name: str | None = None):
        super().__init__(None, 1, "random", points, name)
        v = torch.as_tensor(check_array(values, "ObservedData: values"))
        self.values = v.reshape(len(v), -1) if v.ndim <= 2 else v
        if len(self.values) != len(self.points) or self.values.ndim != 2:
            raise ValueError(f"ObservedData: values must have shape (N, outputs) with N = {len(self.points)} "
                             f"points; got {tuple(v.shape)}")
        self.data_outputs = (outputs,) if isinstance(outputs, str) else outputs

    def _resolve(self, domain, outputs):
        names = self.data_outputs or outputs[: self.values.shape[1]]
        unknown = [o for o in names if o not in outputs]
        if unknown:
            raise ValueError(f"ObservedData: unknown output(s) {unknown}; the problem's outputs are {outputs}")
        if len(names) != self.values.shape[1]:
            raise ValueError(f"ObservedData: values have {self.values.shape[1]} columns for outputs {names}")
        self.data_outputs = tuple(names)
        self.output = names[0]
        super()._resolve(domain, outputs)

    def default_name(self):
        return "data"

    def windowed(self, domain, initial=None):
        """The observations inside the window; None if there are none."""
        keep = domain.inside(self.points)
        if not bool(keep.any()):
            return None
        window = copy.copy(self)
        window.points, window.values = self.points[keep], self.values[keep]
        window.n = len(window.points)
        return window

    def sample(self, domain, seed):
        return self.points

    def prepare(self, points):
        return {"values": self.values.to(points)}

    def residual(self, f, data):
        u = torch.stack([f.d(o) for o in self.data_outputs], dim=-1)
        return u - data["values"]


def describe(condition: Condition) -> dict[str, Any]:
    """A JSON-friendly description (for metrics and logs)."""
    return {"name": condition.name, "kind": condition.kind, "output": condition.output, "n": condition.n}
