r"""Physics-informed operator learning: a PDE whose data is an input function ``v``, solved for many ``v`` at once.

For each input function :math:`v` drawn from a function space, the solution :math:`u = G(v)` satisfies
``residual(f) = 0`` in the domain and the conditions on its boundary; a
:class:`~pinnkit.nets.DeepONet` learns :math:`G` from the residuals alone (Wang, Wang & Perdikaris, "Learning the
solution operator of parametric partial differential equations with physics-informed DeepONets", Science
Advances 2021). The residual function is written as for a :class:`~pinnkit.pde.Problem` and also sees the input
function at the points:

>>> def diffusion_reaction(f):            # u_t = D u_xx - k u^2 + v(x)
...     return f.u_t - 0.01 * f.u_xx + 0.01 * f.u**2 - f.v

Values are (M, N): ``M`` functions of the batch times ``N`` points shared by all of them (coordinates such as
``f.x`` are (N,) and broadcast). Conditions are the ordinary ones (:class:`~pinnkit.pde.DirichletBC`,
:class:`~pinnkit.pde.InitialCondition`, ...) and hold for every function.

Derivative backends (``pinnkit.derivatives.backend_names("operator")``, engines in :mod:`pinnkit.derivatives`):

* ``"zcs"`` (default): zero coordinate shift over the aligned points, one graph for the whole batch of
  functions; derivatives combined linearly in the residual share one backward pass
  (:mod:`pinnkit.derivatives.linear_combination`). Memory nearly independent of ``M``.
* ``"loop"``: reverse-mode autograd one function at a time (M forward passes and M derivative graphs).
* ``"replicated"``: the points copied for every function (M, N, d), one unaligned forward pass, reverse-mode
  autograd on the copies (what a DeepONet without ZCS does with aligned data).
* ``"taylor"``: for a network with a trunk jet (a :class:`~pinnkit.nets.DeepONet`). Coordinate derivatives act on
  the trunk alone (:math:`\partial^\alpha u = b\, (\partial^\alpha t)^\top`), and one forward Taylor-mode (jet) pass
  of the trunk gives all of them (:mod:`pinnkit.derivatives.operator_taylor`): no reverse-mode derivative pass, one
  backward pass for the parameters. The fastest where it applies: trunks that are MLPs with a smooth activation
  (:data:`~pinnkit.nets.activation_derivatives.SMOOTH_ACTIVATIONS`), with or without input scaling; other
  networks (a DeepONet wrapped in a hard constraint, an embedding, ReLU) are refused with a ``ValueError``: use
  ``"zcs"`` for them. The multi-indices the residual and conditions ask for are learnt on the first call and
  propagated together from then on.

All four give the same residuals up to round-off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ..derivatives.backend import Backend, as_backend
from ..derivatives.engine import Derivatives
from ..derivatives.linear_combination import LinearCombination, materialize
from ..derivatives.multi_index import MultiIndex
from ..derivatives.zcs import ZCSDerivatives
from ..functions.space import FunctionSpace
from ..geometry import Geometry
from .conditions import Condition, ObservedData
from .fields import Fields, NameResolver
from .problem import Batch, Problem, Residual, named_residual_terms


@dataclass
class InputBatch:
    """The input functions of one step: ``sensors`` (M, m), their values at the branch net's sensors, and
    ``values`` (M, N), their values at the batch's points (what residuals see as ``f.v``)."""

    sensors: Tensor
    values: Tensor


class OperatorFields(Fields):
    """:class:`~pinnkit.pde.fields.Fields` of a batch of functions, plus the input function by name.

    With ``lazy`` (the ZCS backend), derivatives come back as
    :class:`~pinnkit.derivatives.linear_combination.LinearCombination` so that linear terms share one backward pass.
    """

    def __init__(self, engine: Derivatives, names: NameResolver, parameters: dict[str, Tensor] | None,
                 inputs: dict[str, Tensor], rows: slice | None = None, lazy: bool = False):
        super().__init__(engine, names, parameters, rows)
        self._inputs, self._lazy = inputs, lazy

    def restrict(self, rows: slice) -> OperatorFields:
        return OperatorFields(self._engine, self._names, self._parameters, self._inputs, rows, self._lazy)

    def _derivative(self, j: int, alpha: tuple[int, ...]):
        if self._lazy and alpha:
            return LinearCombination(self._engine, {(j, alpha): 1.0}, None, self._take, self._rows)
        return self._take(self._engine(j, alpha))

    def d(self, output: str, *coords: str):
        if output not in self._names.outputs:
            raise ValueError(f"unknown output {output!r}; the problem's outputs are {self._names.outputs}")
        alpha = self._names.coordinate_indices(tuple(coords)) if coords else ()
        return self._derivative(self._names.outputs.index(output), alpha)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._inputs:
            return self._take(self._inputs[name])
        found = self._names.resolve(name)
        if found is not None and found[0] == "derivative":
            return self._derivative(*found[1])
        return super().__getattr__(name)


class _ProbeOperator(nn.Module):
    """A smooth fixed float64 map from (N, d) points to (2 functions, N, k) outputs (construction checks)."""

    def __init__(self, d: int, k: int):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.w = torch.randn(d, k, generator=g, dtype=torch.float64)
        self.scale = torch.tensor([1.0, 2.0], dtype=torch.float64)[:, None, None]

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(self.scale * (x @ self.w) + 0.1)


class OperatorProblem(Problem):
    """What is learnt: the map from input functions ``v`` (drawn from ``space``) to solutions of ``residual = 0``.

    Parameters
    ----------
    domain : Geometry
        Where the PDE holds (coordinate names for the residual).
    residual : callable
        ``residual(f)`` with ``f`` an :class:`OperatorFields`; returns (M, N) residuals (or (M, N, 1)), a sequence
        or a mapping of them, as for :class:`~pinnkit.pde.Problem`. ``f.<input>`` is the input function at the
        points, (M, N).
    space : FunctionSpace
        Where the input functions come from (:mod:`pinnkit.functions`).
    sensors : array-like (m,)
        Points of the space's interval where the branch net reads the input function.
    outputs, conditions, parameters
        As for :class:`~pinnkit.pde.Problem`; the conditions hold for every function (``ObservedData`` is not
        supported: the observations would differ per function).
    input : str
        Name of the input function in residuals (default ``"v"``).
    input_coordinate : str, optional
        The coordinate the input function depends on (default: the domain's first coordinate, e.g. ``x``).
    """

    def __init__(self, domain: Geometry, residual: Residual, space: FunctionSpace, sensors,
                 outputs: str | Sequence[str] = "u", conditions: Sequence[Condition] = (),
                 parameters: Mapping[str, float] | None = None, input: str = "v",
                 input_coordinate: str | None = None):
        if not isinstance(domain, Geometry):
            raise ValueError(f"domain must be a pinnkit Geometry; got {type(domain).__name__}")
        if not isinstance(space, FunctionSpace):
            raise ValueError(f"space must be a pinnkit.functions space (GaussianRandomField, ...); got "
                             f"{type(space).__name__}")
        s = torch.as_tensor(np.asarray(sensors, dtype=np.float64) if not isinstance(sensors, Tensor) else sensors,
                            dtype=torch.float64).reshape(-1) if np.ndim(sensors) <= 2 else None
        if s is None or len(s) == 0 or (np.ndim(sensors) == 2 and np.shape(sensors)[1] != 1):
            raise ValueError(f"sensors must be m points of shape (m,) or (m, 1); got shape {np.shape(sensors)}")
        a, b = space.interval
        if float(s.min()) < a or float(s.max()) > b:
            raise ValueError(f"sensors must lie in the function space's interval [{a}, {b}]; got values in "
                             f"[{float(s.min())}, {float(s.max())}]")
        for c in conditions:
            if isinstance(c, ObservedData):
                raise ValueError("conditions: ObservedData is not supported by an OperatorProblem (observations "
                                 "differ per input function)")
        if not isinstance(input, str) or not input.isidentifier() or input.startswith("_"):
            raise ValueError(f"input must be an identifier not starting with '_'; got {input!r}")
        coordinate = domain.names[0] if input_coordinate is None else input_coordinate
        if coordinate not in domain.names:
            raise ValueError(f"input_coordinate must be one of the domain's coordinates {domain.names}; got "
                             f"{input_coordinate!r}")
        out_names = (outputs,) if isinstance(outputs, str) else tuple(outputs)
        NameResolver(out_names, domain.names, tuple(parameters or {}) + (input,))  # names distinct and valid
        self.space, self.sensors, self.input_name = space, s, input
        self.input_coordinate, self.input_column = coordinate, domain.names.index(coordinate)
        super().__init__(domain, residual, outputs, conditions, parameters)
        #: Multi-indices the "taylor" backend propagates in its one trunk pass (learnt from the residuals' requests).
        self.derivative_alphas: set[MultiIndex] = set()

    def __repr__(self) -> str:
        return (f"OperatorProblem(domain={self.domain!r}, space={self.space!r}, sensors={len(self.sensors)}, "
                f"outputs={self.outputs}, terms={self.terms})")

    # ------------------------------------------------------------------ input functions
    def inputs(self, features: Tensor, points: Tensor) -> InputBatch:
        """The input functions ``features`` (M, q) (from ``space.sample``) at the sensors and at ``points``
        (N, d) (its ``input_coordinate`` column), float64."""
        return InputBatch(self.space.evaluate(features, self.sensors), self.input_values(features, points))

    def input_values(self, features: Tensor, points: Tensor) -> Tensor:
        """The input functions ``features`` (M, q) at ``points`` (N, d): (M, N), float64."""
        return self.space.evaluate(features, points[:, self.input_column].detach().double().cpu())

    # ------------------------------------------------------------------ residuals
    def _split_residual(self, out, n: int, m: int | None = None) -> dict[str, Tensor]:
        terms = {}
        for name, value in named_residual_terms(out, (Tensor, LinearCombination)):
            value = materialize(value)
            if not isinstance(value, Tensor):
                raise ValueError(f"residual term {name!r} must be a tensor; got {type(value).__name__}")
            if value.ndim == 3 and value.shape[-1] == 1:
                value = value[..., 0]
            expected = (n,) if m is None else (m, n)
            if value.shape != expected:
                raise ValueError(f"residual term {name!r} must have shape (M, N) = {expected} (M functions, N "
                                 f"points) or (M, N, 1); got {tuple(value.shape)}")
            terms[name] = value
        return terms

    def _trial_residual(self) -> list[str]:
        x = self.domain.sample_interior(4, "sobol", seed=0, dtype=torch.float64)
        engine = ZCSDerivatives(_ProbeOperator(self.domain.dim, len(self.outputs)), x)
        params = {k: v.detach().double() for k, v in self.parameters.items()}
        inputs = {self.input_name: torch.linspace(-1, 1, 8, dtype=torch.float64).reshape(2, 4)}
        try:
            out = self.residual_fn(OperatorFields(engine, self.names, params, inputs, lazy=True))
        except AttributeError as err:
            raise ValueError(f"the residual function uses a name the problem does not have: {err}") from err
        return list(self._split_residual(out, len(x), 2))

    def residuals(self, net: nn.Module, batch: Batch, inputs: InputBatch | None = None,
                  backend: str | Backend = "zcs") -> dict[str, Tensor]:
        """Per-point residuals (M, N_term) of every term for the functions ``inputs`` at ``batch``'s points.

        ``net(v, x)`` maps sensor values (M, m) and points (N, d) to (M, N, k) (and (M, N, d) points to
        (M, N, k) for ``backend="replicated"``), as :class:`~pinnkit.nets.DeepONet` does; ``backend`` is a name of
        ``pinnkit.derivatives.backend_names("operator")`` or a :class:`~pinnkit.derivatives.Backend`.
        """
        if inputs is None:
            raise ValueError("residuals of an OperatorProblem need the input functions (inputs=InputBatch)")
        backend = as_backend(backend, "operator")
        points = batch.points
        sensors, values = inputs.sensors.to(points), inputs.values.to(points)
        engine = backend.operator_engine(net, sensors, points, self.derivative_alphas)
        fields = OperatorFields(engine, self.names, dict(self.parameters.items()), {self.input_name: values},
                                lazy=engine.combines_lazily)
        terms = self._terms(fields, batch, len(sensors))
        if backend.name == "taylor":
            self.derivative_alphas |= engine.requested
        return terms

    def _terms(self, fields: OperatorFields, batch: Batch, m: int | None) -> dict[str, Tensor]:
        pde = batch.slices["pde"]
        out = self._split_residual(self.residual_fn(fields.restrict(pde)), pde.stop, m)
        for c in self.conditions:
            rows = batch.slices[c.name]
            out[c.name] = materialize(c.residual(fields.restrict(rows), batch.data[c.name]))
        return out

    def pde_residual(self, net, points, backend="zcs", chunk=16384):
        raise ValueError("an OperatorProblem has no residual without input functions: samplers that look at "
                         "residuals (R3, RAD, RAR-D, causal weighting) are not supported; use FixedPoints or Resample")

    def check_net(self, net: nn.Module, dtype: torch.dtype, device: torch.device | str) -> None:
        """Raise a clear error unless ``net(v (2, m), x (3, d))`` is (2, 3, outputs)."""
        v = torch.zeros(2, len(self.sensors), dtype=dtype, device=device)
        x = self.domain.sample_interior(3, "sobol", seed=0, dtype=dtype, device=device)
        try:
            with torch.no_grad():
                y = net(v, x)
        except (RuntimeError, ValueError, TypeError) as err:
            raise ValueError(f"the network must map sensor values (M, {len(self.sensors)}) and points (N, "
                             f"{self.domain.dim}) to (M, N, {len(self.outputs)}), as DeepONet does: {err}") from err
        if not isinstance(y, Tensor) or y.shape != (2, 3, len(self.outputs)):
            shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
            raise ValueError(f"the network must map (M, {len(self.sensors)}) sensor values and (N, {self.domain.dim}) "
                             f"points to (M, N, {len(self.outputs)}); it returned {shape} for M = 2, N = 3")

    def time_window(self, t0, t1, initial=None):
        raise ValueError("time-marching is not available for an OperatorProblem")

