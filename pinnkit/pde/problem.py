"""A PDE problem: domain, residual function, conditions, output names and the initial values of PDE parameters.

A :class:`Problem` is a :class:`~pinnkit.pde.specification.Specification`: it does not change while it is trained.
A trainer holds the trainable PDE parameters (``trainer.parameters``) and an
:class:`~pinnkit.pde.evaluator.Evaluator` (:meth:`Problem.evaluator`) that evaluates the residuals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor, nn

from ..derivatives.backend import Backend
from ..geometry import Geometry, SpaceTimeDomain, TimeDomain
from ..geometry.unit_samples import method_for_dim
from .conditions import Condition
from .evaluator import Evaluator, pointwise_trial
from .specification import Residual, Specification


class Problem(Specification):
    """What is solved: ``residual(f) = 0`` in ``domain`` subject to ``conditions``.

    Parameters
    ----------
    domain : Geometry
        Where the PDE holds; its coordinate names (``domain.names``) are the names residuals use.
    residual : callable
        ``residual(f)`` with ``f`` a :class:`~pinnkit.pde.fields.Fields`; returns the residual ``(N,)`` (or
        ``(N, 1)``), a sequence of them (terms ``pde1, pde2, ...``) or a mapping name -> residual.
    outputs : str or sequence of str
        Names of the network's outputs, in column order (``"u"``, or ``("u", "v", "p")``).
    conditions : sequence of Condition
        Boundary / initial / periodic / data conditions; each becomes a named loss term. The problem holds bound
        copies (:attr:`conditions`); the given objects are left as they are.
    parameters : mapping name -> float, optional
        Trainable PDE coefficients for inverse problems (``{"nu": 0.05}``), available as ``f.nu``. The problem
        keeps their initial values (:attr:`parameters`, read-only floats); each trainer trains its own copies
        (``trainer.parameters``) in its precision.

    Errors in names (unknown outputs or coordinates, a residual of the wrong shape) are raised here, from a
    trial evaluation of the residual on a smooth probe function at a few points of the domain.
    """

    def __init__(self, domain: Geometry, residual: Residual, outputs: str | Sequence[str] = "u",
                 conditions: Sequence[Condition] = (), parameters: Mapping[str, float] | None = None):
        super().__init__(domain, residual, outputs, conditions, parameters, trial=pointwise_trial)

    def __repr__(self) -> str:
        return (f"Problem(domain={self.domain!r}, outputs={self.outputs}, terms={self.terms}, "
                f"parameters={dict(self.parameters)})")

    def evaluator(self, net: Callable[[Tensor], Tensor], backend: str | Backend = "autograd",
                  parameters: Mapping[str, Tensor] | None = None) -> Evaluator:
        """An :class:`~pinnkit.pde.evaluator.Evaluator` of this problem's residuals for ``net`` with ``backend``
        and the PDE ``parameters`` (tensors; default the initial values in float64)."""
        return Evaluator(self, net, backend, parameters)

    def time_window(self, t0: float, t1: float, initial: Mapping[str, Callable[[Tensor], Tensor]] | None = None,
                    parameters: Mapping[str, float] | None = None) -> Problem:
        """The same problem on the time window ``[t0, t1]`` of its space-time domain (for time-marching).

        Conditions keep their names and settings; observations outside the window are dropped; ``initial``
        maps initial-condition names to the values that replace theirs (the previous window's prediction at
        ``t0``). ``parameters`` (name -> float) replaces the PDE parameters' initial values (the previous window's
        trained values); default this problem's.
        """
        if not isinstance(self.domain, SpaceTimeDomain):
            raise ValueError(f"time_window needs a space-time domain (geometry * TimeDomain); got {self.domain!r}")
        time = self.domain.time
        tol = 1e-12 * max(1.0, abs(time.t0), abs(time.t1))
        if not (time.t0 - tol <= t0 < t1 <= time.t1 + tol):
            raise ValueError(f"the window [t0, t1] must satisfy {time.t0} <= t0 < t1 <= {time.t1}; got [{t0}, {t1}]")
        initial = dict(initial or {})
        unknown = sorted(set(initial) - {c.name for c in self.conditions if c.kind == "initial"})
        if unknown:
            raise ValueError(f"initial: {unknown} are not initial conditions of this problem")
        if t0 > time.t0 + tol:
            missing = [c.name for c in self.conditions if c.kind == "initial" and c.name not in initial]
            if missing:
                raise ValueError(f"a window starting after t0 = {time.t0} needs the initial values of {missing}")
        domain = SpaceTimeDomain(self.domain.geometry, TimeDomain(t0, t1, name=time.names[0]))
        conditions = [c.windowed(domain, initial.get(c.name)) for c in self.conditions]
        if parameters is not None and not isinstance(parameters, Mapping):
            raise ValueError(f"parameters must be a mapping name -> value; got {type(parameters).__name__}")
        unknown = sorted(set(parameters or {}) - set(self.parameters))
        if unknown:
            raise ValueError(f"parameters: {unknown} are not PDE parameters of this problem {list(self.parameters)}")
        parameters = {**self.parameters, **(parameters or {})}
        return Problem(domain, self.residual_fn, self.outputs, [c for c in conditions if c is not None], parameters)

    def check_net(self, net: nn.Module, dtype: torch.dtype, device: torch.device | str) -> None:
        """Raise a clear error if ``net`` does not map (N, d) inputs to (N, outputs)."""
        x = self.domain.sample_interior(2, method_for_dim("sobol", self.domain.dim), seed=0, dtype=dtype, device=device)
        try:
            with torch.no_grad():
                y = net(x)
        except (RuntimeError, ValueError) as err:
            raise ValueError(f"the network does not accept points of shape (N, {self.domain.dim}) "
                             f"(coordinates {self.domain.names}): {err}") from err
        if not isinstance(y, Tensor) or y.shape != (2, len(self.outputs)):
            shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
            raise ValueError(f"the network must map (N, {self.domain.dim}) to (N, {len(self.outputs)}) for outputs "
                             f"{self.outputs}; it returned {shape} for N = 2")
