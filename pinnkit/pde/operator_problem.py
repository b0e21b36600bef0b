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

import numpy as np
import torch
from torch import Tensor, nn

from ..derivatives.backend import Backend
from ..functions.space import FunctionSpace
from ..geometry import Geometry
from ..geometry.unit_samples import method_for_dim
from .conditions import Condition, ObservedData
from .evaluator import InputBatch, OperatorEvaluator, operator_trial
from .specification import Batch, Residual, Specification


class OperatorProblem:
    """What is learnt: the map from input functions ``v`` (drawn from ``space``) to solutions of ``residual = 0``.

    It holds the :class:`~pinnkit.pde.specification.Specification` of the PDE (:attr:`specification`: domain,
    residual, outputs, conditions, PDE parameters) and the function space and sensors of its input functions; it
    does not change while it is trained (the trainer holds the PDE parameters and an
    :class:`~pinnkit.pde.evaluator.OperatorEvaluator`, :meth:`evaluator`).

    Parameters
    ----------
    domain : Geometry
        Where the PDE holds (coordinate names for the residual).
    residual : callable
        ``residual(f)`` with ``f`` an :class:`~pinnkit.pde.fields.OperatorFields`; returns (M, N) residuals (or
        (M, N, 1)), a sequence or a mapping of them, as for :class:`~pinnkit.pde.Problem`. ``f.<input>`` is the
        input function at the points, (M, N).
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
        for c in conditions if isinstance(conditions, (list, tuple)) else ():
            if isinstance(c, ObservedData):
                raise ValueError("conditions: ObservedData is not supported by an OperatorProblem (observations "
                                 "differ per input function)")
        if not isinstance(input, str) or not input.isidentifier() or input.startswith("_"):
            raise ValueError(f"input must be an identifier not starting with '_'; got {input!r}")
        coordinate = domain.names[0] if input_coordinate is None else input_coordinate
        if coordinate not in domain.names:
            raise ValueError(f"input_coordinate must be one of the domain's coordinates {domain.names}; got "
                             f"{input_coordinate!r}")
        self.space, self.sensors, self.input_name = space, s, input
        self.input_coordinate, self.input_column = coordinate, domain.names.index(coordinate)
        #: The PDE: domain, residual, outputs, bound conditions, PDE parameters' initial values.
        self.specification = Specification(domain, residual, outputs, conditions, parameters, inputs=(input,),
                                           trial=lambda spec: operator_trial(spec, input))

    def __repr__(self) -> str:
        return (f"OperatorProblem(domain={self.domain!r}, space={self.space!r}, sensors={len(self.sensors)}, "
                f"outputs={self.outputs}, terms={self.terms})")

    # ------------------------------------------------------------------ the PDE's statement
    @property
    def domain(self) -> Geometry:
        """Where the PDE holds."""
        return self.specification.domain

    @property
    def outputs(self) -> tuple[str, ...]:
        """The outputs' names, in column order."""
        return self.specification.outputs

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The bound, named conditions."""
        return self.specification.conditions

    @property
    def parameters(self) -> Mapping[str, float]:
        """The PDE parameters' initial values (read-only floats)."""
        return self.specification.parameters

    @property
    def pde_terms(self) -> tuple[str, ...]:
        """Names of the PDE's loss terms."""
        return self.specification.pde_terms

    @property
    def terms(self) -> tuple[str, ...]:
        """Names of all loss terms: the PDE's, then one per condition."""
        return self.specification.terms

    def sample_conditions(self, seed: int | None = None) -> dict[str, Tensor]:
        """Float64 points of every condition (see :meth:`Specification.sample_conditions`)."""
        return self.specification.sample_conditions(seed)

    def batch(self, pde_points: Tensor, condition_points: Mapping[str, Tensor] | None = None, **options) -> Batch:
        """The points of a step in one batch (see :meth:`Specification.batch`)."""
        return self.specification.batch(pde_points, condition_points, **options)

    # ------------------------------------------------------------------ input functions
    def inputs(self, features: Tensor, points: Tensor) -> InputBatch:
        """The input functions ``features`` (M, q) (from ``space.sample``) at the sensors and at ``points``
        (N, d) (its ``input_coordinate`` column), float64."""
        return InputBatch(self.space.evaluate(features, self.sensors), self.input_values(features, points))

    def input_values(self, features: Tensor, points: Tensor) -> Tensor:
        """The input functions ``features`` (M, q) at ``points`` (N, d): (M, N), float64."""
        return self.space.evaluate(features, points[:, self.input_column].detach().double().cpu())

    def evaluator(self, net: nn.Module, backend: str | Backend = "zcs",
                  parameters: Mapping[str, Tensor] | None = None) -> OperatorEvaluator:
        """An :class:`~pinnkit.pde.evaluator.OperatorEvaluator` of the residuals for the operator network ``net``
        with ``backend`` and the PDE ``parameters`` (tensors; default the initial values in float64)."""
        return OperatorEvaluator(self, net, backend, parameters)

    def check_net(self, net: nn.Module, dtype: torch.dtype, device: torch.device | str) -> None:
        """Raise a clear error unless ``net(v (2, m), x (3, d))`` is (2, 3, outputs)."""
        v = torch.zeros(2, len(self.sensors), dtype=dtype, device=device)
        x = self.domain.sample_interior(3, method_for_dim("sobol", self.domain.dim), seed=0, dtype=dtype, device=device)
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
