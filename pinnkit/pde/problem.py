"""A PDE problem: domain, residual function, conditions, output names and trainable PDE parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ..checks import check_finite_float
from ..derivatives.backend import Backend, as_backend
from ..derivatives.engine import Derivatives
from ..derivatives.reverse import AutogradDerivatives
from ..geometry import Geometry, SpaceTimeDomain, TimeDomain
from .conditions import Condition
from .fields import Fields, NameResolver

Residual = Callable[[Fields], Tensor | Sequence[Tensor] | Mapping[str, Tensor]]


@dataclass
class Batch:
    """The points of one training step, concatenated for a single forward pass.

    ``points`` (N, d); ``slices[term]`` selects a term's rows (``"pde"`` for the collocation points, then one
    per condition); ``data[term]`` holds the condition's fixed targets (values, normals).
    """

    points: Tensor
    slices: dict[str, slice]
    data: dict[str, dict[str, Tensor]]


class _ProbeNet(nn.Module):
    """A smooth fixed float64 function with ``k`` outputs, for checking residuals at construction."""

    def __init__(self, d: int, k: int):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.w = torch.randn(d, k, generator=g, dtype=torch.float64)
        self.b = torch.randn(k, generator=g, dtype=torch.float64)

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(x @ self.w + self.b)


class Problem:
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
        Boundary / initial / periodic / data conditions; each becomes a named loss term.
    parameters : mapping name -> float, optional
        Trainable PDE coefficients for inverse problems (``{"nu": 0.05}``), available as ``f.nu``; they are
        ``torch.nn.Parameter`` scalars in :attr:`parameters`.

    Errors in names (unknown outputs or coordinates, a residual of the wrong shape) are raised here, from a
    trial evaluation of the residual on a smooth probe function at a few points of the domain.
    """

    def __init__(self, domain: Geometry, residual: Residual, outputs: str | Sequence[str] = "u",
                 conditions: Sequence[Condition] = (), parameters: Mapping[str, float] | None = None):
        if not isinstance(domain, Geometry):
            raise ValueError(f"domain must be a pinnkit Geometry; got {type(domain).__name__}")
        if not callable(residual):
            raise ValueError(f"residual must be a function of the fields f; got {type(residual).__name__}")
        self.domain, self.residual_fn = domain, residual
        self.outputs = check_outputs(outputs)
        if parameters is not None and not isinstance(parameters, Mapping):
            raise ValueError(f"parameters must be a mapping name -> initial value, e.g. {{'nu': 0.1}}; got "
                             f"{type(parameters).__name__}")
        parameters = dict(parameters or {})
        bad = [k for k in parameters if not isinstance(k, str) or not k.isidentifier()]
        if bad:
            raise ValueError(f"parameters: names must be identifiers; got {bad!r}")
        self.names = NameResolver(self.outputs, domain.names, tuple(parameters))
        self.parameters = nn.ParameterDict()
        for key, value in parameters.items():
            value = value.item() if isinstance(value, Tensor) and value.numel() == 1 and value.ndim == 0 else value
            tensor = torch.tensor(check_finite_float(value, f"parameters[{key!r}]"), dtype=torch.get_default_dtype())
            self.parameters[key] = nn.Parameter(tensor.clone())
        self.conditions = []
        for c in conditions:
            if not isinstance(c, Condition):
                raise ValueError(f"conditions must be pinnkit conditions (DirichletBC, ...); got {type(c).__name__}")
            self.conditions.append(c.bind(domain, self.outputs))  # a bound copy: the given condition is unchanged
        self.pde_terms = tuple(self._trial_residual())
        self._name_conditions()
        for c in self.conditions:  # values of the wrong shape fail here, not at the first training step
            c.prepare(c.sample(domain, np.random.default_rng(0)))

    def __repr__(self) -> str:
        return (f"Problem(domain={self.domain!r}, outputs={self.outputs}, terms={self.terms}, "
                f"parameters={list(self.parameters)})")

    @property
    def terms(self) -> tuple[str, ...]:
        """Names of the loss terms: the PDE terms, then one per condition."""
        return self.pde_terms + tuple(c.name for c in self.conditions)

    def _name_conditions(self) -> None:
        taken = set(self.pde_terms)
        for c in self.conditions:
            base = c.name or c.default_name()
            if c.name is not None and c.name in taken:
                raise ValueError(f"condition name {c.name!r} is used twice")
            name, k = base, 2
            while name in taken:
                name, k = f"{base}_{k}", k + 1
            c.name = name
            taken.add(name)

    def _split_residual(self, out, n: int) -> dict[str, Tensor]:
        terms = {}
        for name, value in named_residual_terms(out):
            if not isinstance(value, Tensor):
                raise ValueError(f"residual term {name!r} must be a tensor; got {type(value).__name__}")
            if value.shape == (n, 1):
                value = value[:, 0]
            if value.shape != (n,):
                raise ValueError(f"residual term {name!r} must have shape (N,) or (N, 1) for N = {n} points; got "
                                 f"{tuple(value.shape)} (reduce over outputs yourself, or return several terms)")
            terms[name] = value
        return terms

    def _trial_residual(self) -> list[str]:
        x = self.domain.sample_interior(4, "sobol", seed=0, dtype=torch.float64)
        engine = AutogradDerivatives(_ProbeNet(self.domain.dim, len(self.outputs)), x)
        params = {k: v.detach().double() for k, v in self.parameters.items()}
        try:
            out = self.residual_fn(Fields(engine, self.names, params))
        except AttributeError as err:
            raise ValueError(f"the residual function uses a name the problem does not have: {err}") from err
        if out is None or (isinstance(out, (Sequence, Mapping)) and not isinstance(out, str) and len(out) == 0):
            raise ValueError(f"residual must return the PDE residual: a tensor, or a non-empty sequence or mapping of "
                             f"tensors (did it forget to return?); got {out!r}")
        terms = list(self._split_residual(out, len(x)))
        # the multi-indices the residual (and, after a first step, the conditions) asks for: what the "taylor"
        # backend propagates
        self.derivative_alphas: set[tuple[int, ...]] = set(engine.requested)
        return terms

    def time_window(self, t0: float, t1: float, initial: Mapping[str, Callable[[Tensor], Tensor]] | None = None
                    ) -> Problem:
        """The same problem on the time window ``[t0, t1]`` of its space-time domain (for time-marching).

        Conditions keep their names and settings; observations outside the window are dropped; ``initial``
        maps initial-condition names to the values that replace theirs (the previous window's prediction at
        ``t0``). PDE parameters start from their current values.
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
        parameters = {k: float(v.detach()) for k, v in self.parameters.items()}
        return Problem(domain, self.residual_fn, self.outputs, [c for c in conditions if c is not None], parameters)

    # ------------------------------------------------------------------ points and residuals
    def sample_conditions(self, seed: int | None = None) -> dict[str, Tensor]:
        """Float64 points of every condition, each from its own stream of ``seed``."""
        children = np.random.SeedSequence(seed).spawn(len(self.conditions))
        return {c.name: c.sample(self.domain, np.random.default_rng(s)) for c, s in zip(self.conditions, children,
                                                                                      strict=True)}

    def batch(self, pde_points: Tensor, condition_points: Mapping[str, Tensor] | None = None, *,
              dtype: torch.dtype | None = None, device: torch.device | str | None = None,
              reuse: Batch | None = None) -> Batch:
        """Concatenate the points of a step and prepare every condition's fixed data.

        With ``reuse`` (an earlier batch of the same conditions), only the PDE points are replaced: the
        conditions' points and prepared data are taken over as they are (what moving samplers need each step).
        """
        if reuse is not None:
            old = reuse.slices["pde"].stop
            rest = reuse.points[old:]
            n = len(pde_points)
            slices = {k: (slice(0, n) if k == "pde" else slice(s.start - old + n, s.stop - old + n))
                      for k, s in reuse.slices.items()}
            return Batch(torch.cat([pde_points.to(rest), rest]), slices, reuse.data)
        condition_points = condition_points or {}
        dtype = dtype or pde_points.dtype
        parts, slices, data, start = [pde_points], {"pde": slice(0, len(pde_points))}, {}, len(pde_points)
        for c in self.conditions:
            p = condition_points[c.name]
            slices[c.name] = slice(start, start + len(p))
            start += len(p)
            parts.append(p)
            data[c.name] = {k: v.to(dtype=dtype if v.is_floating_point() else v.dtype, device=device)
                            for k, v in c.prepare(p.to(torch.float64)).items()}
        points = torch.cat([p.to(dtype=dtype, device=device) for p in parts])
        return Batch(points, slices, data)

    def engine(self, net: Callable[[Tensor], Tensor], points: Tensor, backend: str | Backend = "autograd"
               ) -> Derivatives:
        """The derivative engine of ``backend`` (a name or a :class:`~pinnkit.derivatives.Backend`) for ``net`` at
        ``points``; for ``"taylor"`` it propagates ``derivative_alphas``."""
        return as_backend(backend, "pinn").engine(net, points, self.derivative_alphas)

    def _learn_alphas(self, engine: Derivatives) -> None:
        """Remember multi-indices a jet engine had to add (asked for by conditions, say) for the next pass."""
        self.derivative_alphas |= getattr(engine, "missed", set())

    def residuals(self, net: Callable[[Tensor], Tensor], batch: Batch, backend: str | Backend = "autograd"
                  ) -> dict[str, Tensor]:
        """Per-point residuals of every term, from one forward pass over the batch."""
        engine = self.engine(net, batch.points, backend)
        fields = Fields(engine, self.names, dict(self.parameters.items()))
        out = self._split_residual(self.residual_fn(fields.restrict(batch.slices["pde"])),
                                   batch.slices["pde"].stop)
        for c in self.conditions:
            out[c.name] = c.residual(fields.restrict(batch.slices[c.name]), batch.data[c.name])
        self._learn_alphas(engine)
        return out

    def pde_residual(self, net: Callable[[Tensor], Tensor], points: Tensor, backend: str | Backend = "autograd",
                     chunk: int = 16384) -> Tensor:
        """The PDE residual at ``points``, detached: (N,) for one PDE term, (N, m) for m terms.

        For samplers that look at candidate points (RAD, RAR-D); evaluated in chunks of ``chunk`` points.
        """
        out = []
        for part in points.split(chunk):
            engine = self.engine(net, part, backend)
            terms = list(self._split_residual(self.residual_fn(Fields(engine, self.names,
                                                                      dict(self.parameters.items()))),
                                              len(part)).values())
            out.append((terms[0] if len(terms) == 1 else torch.stack(terms, dim=-1)).detach())
            self._learn_alphas(engine)
        return torch.cat(out)

    def check_net(self, net: nn.Module, dtype: torch.dtype, device: torch.device | str) -> None:
        """Raise a clear error if ``net`` does not map (N, d) inputs to (N, outputs)."""
        x = self.domain.sample_interior(2, "sobol", seed=0, dtype=dtype, device=device)
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


def named_residual_terms(out, single: tuple[type, ...] = (Tensor,)) -> list[tuple[str, object]]:
    """A residual function's result as ``(term name, value)`` pairs: one value (an instance of ``single``) is
    term ``"pde"``, a sequence gives ``"pde1", "pde2", ...``, a mapping keeps its names."""
    if isinstance(out, single):
        return [("pde", out)]
    if isinstance(out, Mapping):
        return [(str(k), v) for k, v in out.items()]
    if isinstance(out, Sequence) and not isinstance(out, str):
        return [(f"pde{i + 1}", v) for i, v in enumerate(out)]
    raise ValueError(f"residual must return a tensor, a sequence or a mapping of tensors; got "
                     f"{type(out).__name__}")



def check_outputs(outputs: object) -> tuple[str, ...]:
    """``outputs`` (a name or a sequence of names) as a tuple of distinct identifiers, at least one."""
    names = (outputs,) if isinstance(outputs, str) else tuple(outputs) if isinstance(outputs, (list, tuple)) else None
    if not names or not all(isinstance(n, str) and n.isidentifier() for n in names) or len(set(names)) != len(names):
        raise ValueError(f"outputs must be a name or a sequence of distinct names (identifiers such as 'u'); got "
                         f"{outputs!r}")
    return names
