"""What a problem states and never changes: domain, residual function, outputs, conditions and the initial values of
PDE parameters.

A :class:`Specification` is fixed once built. Everything that changes while training (trainable PDE parameters,
the multi-indices a jet engine learns to propagate, sampled points and their prepared data) belongs to the trainer
and to the :class:`~pinnkit.pde.evaluator.Evaluator` it builds, so one specification can be trained by several
trainers, in several precisions, one after another or at once. Its conditions are bound copies of the ones given
(:meth:`~pinnkit.pde.conditions.Condition.bind`): the caller's condition objects are never changed.

:class:`~pinnkit.pde.Problem` is the specification of a PDE on points; :class:`~pinnkit.pde.OperatorProblem` holds
one, plus the function space and sensors of its input functions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import torch
from torch import Tensor

from ..checks import check_finite_float
from ..geometry import Geometry
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


class Specification:
    """The fixed statement of a problem (see the module docstring).

    Parameters
    ----------
    domain : Geometry
        Where the PDE holds; its coordinate names are the names residuals use.
    residual : callable
        ``residual(f)``: the PDE residual from the fields ``f`` (its shapes are the owner's business).
    outputs : str or sequence of str
        Names of the network's outputs, in column order.
    conditions : sequence of Condition
        Each becomes a named loss term; the specification holds bound copies.
    parameters : mapping name -> float, optional
        Initial values of trainable PDE coefficients (read-only floats in :attr:`parameters`).
    inputs : tuple of str
        Further names the residual sees (an operator problem's input function).
    trial : callable
        ``trial(specification) -> (term names, multi-indices)``: evaluates the residual once on a probe function
        (raising a ``ValueError`` for a name the problem does not have or a result of the wrong shape), names its
        terms and says which derivatives it asked for.
    """

    def __init__(self, domain: Geometry, residual: Residual, outputs: str | Sequence[str],
                 conditions: Sequence[Condition], parameters: Mapping[str, float] | None, *,
                 inputs: tuple[str, ...] = (),
                 trial: Callable[[Specification], tuple[list[str], frozenset[tuple[int, ...]]]]):
        if not isinstance(domain, Geometry):
            raise ValueError(f"domain must be a pinnkit Geometry; got {type(domain).__name__}")
        self.domain, self.residual_fn = domain, check_residual(residual)
        self.outputs = check_outputs(outputs)
        values = check_parameters(parameters)
        self.names = NameResolver(self.outputs, domain.names, tuple(values) + tuple(inputs))
        self._parameters = values
        if isinstance(conditions, Condition) or not isinstance(conditions, (list, tuple)):
            raise ValueError(f"conditions must be a list of pinnkit conditions; got {type(conditions).__name__}")
        bound = []
        for c in conditions:
            if not isinstance(c, Condition):
                raise ValueError(f"conditions must be pinnkit conditions (DirichletBC, ...); got {type(c).__name__}")
            bound.append(c.bind(domain, self.outputs))  # a bound copy: the given condition is unchanged
        self.conditions: tuple[Condition, ...] = ()
        terms, alphas = trial(self)
        self.pde_terms: tuple[str, ...] = tuple(terms)
        #: The multi-indices the residual asked for on the probe (where a jet engine starts).
        self.residual_alphas: frozenset[tuple[int, ...]] = alphas
        self.conditions = tuple(_named(bound, self.pde_terms))
        for c in self.conditions:  # values of the wrong shape fail here, not at the first training step
            c.prepare(c.sample(domain, np.random.default_rng(0)))

    @property
    def parameters(self) -> Mapping[str, float]:
        """The PDE parameters' initial values, name -> float (read-only; a trainer trains its own copies)."""
        return MappingProxyType(self._parameters)

    @property
    def terms(self) -> tuple[str, ...]:
        """Names of the loss terms: the PDE terms, then one per condition."""
        return self.pde_terms + tuple(c.name for c in self.conditions)

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


def _named(conditions: list[Condition], pde_terms: tuple[str, ...]) -> list[Condition]:
    """The bound conditions with distinct names (a given one kept, a default one numbered ``_2, _3, ...``)."""
    taken = set(pde_terms)
    for c in conditions:
        base = c.name or c.default_name()
        if c.name is not None and c.name in taken:
            raise ValueError(f"condition name {c.name!r} is used twice")
        name, k = base, 2
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        c.name = name  # on the bound copy
        taken.add(name)
    return conditions


def check_residual(residual: object) -> Residual:
    """``residual`` if it is a function of one argument, the fields ``f``; a ``ValueError`` that says how to write
    it otherwise (a DeepXDE residual ``pde(x, y)`` included)."""
    if not callable(residual):
        raise ValueError(f"residual must be a function of the fields f; got {type(residual).__name__}")
    try:
        signature = inspect.signature(residual)
    except (TypeError, ValueError):  # a builtin or C function without a signature: judged when it is called
        return residual
    positional = [p for p in signature.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p.name for p in positional if p.default is p.empty]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values())
    if len(required) > 1 or not (positional or variadic):
        name = getattr(residual, "__name__", type(residual).__name__)
        raise ValueError(
            f"residual must take one argument, the fields f, and return the residual: def pde(f): return "
            f"f.u_t + f.u * f.u_x - 0.01 * f.u_xx; got {name}({', '.join(signature.parameters)}). A DeepXDE "
            f"residual pde(x, y) translates name by name: y[:, 0:1] is f.u (outputs by name), x[:, 0:1] is f.x, "
            f"dde.grad.jacobian(y, x, i=0, j=1) is f.u_t, dde.grad.hessian(y, x, i=0, j=0) is f.u_xx")
    return residual


def check_parameters(parameters: object) -> dict[str, float]:
    """``parameters`` (a mapping identifier -> finite number, or None) as a dict of floats."""
    if parameters is not None and not isinstance(parameters, Mapping):
        raise ValueError(f"parameters must be a mapping name -> initial value, e.g. {{'nu': 0.1}}; got "
                         f"{type(parameters).__name__}")
    parameters = dict(parameters or {})
    bad = [k for k in parameters if not isinstance(k, str) or not k.isidentifier()]
    if bad:
        raise ValueError(f"parameters: names must be identifiers; got {bad!r}")
    out = {}
    for key, value in parameters.items():
        value = value.item() if isinstance(value, Tensor) and value.numel() == 1 and value.ndim == 0 else value
        out[key] = check_finite_float(value, f"parameters[{key!r}]")
    return out


def named_residual_terms(out, single: tuple[type, ...] = (Tensor,)) -> list[tuple[str, object]]:
    """A residual function's result as ``(term name, value)`` pairs: one value (an instance of ``single``) is
    term ``"pde"``, a sequence gives ``"pde1", "pde2", ...``, a mapping keeps its names."""
    if out is None or (isinstance(out, (Sequence, Mapping)) and not isinstance(out, str) and len(out) == 0):
        raise ValueError(f"residual must return the PDE residual: a tensor, or a non-empty sequence or mapping of "
                         f"tensors (did it forget to return?); got {out!r}")
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
