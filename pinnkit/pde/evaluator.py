r"""Residuals of a problem for one network: the state a specification does not hold.

A :class:`~pinnkit.pde.specification.Specification` never changes; what evaluating it needs beyond the statement
lives here, in the object a trainer builds once (:meth:`Problem.evaluator <pinnkit.pde.Problem.evaluator>`,
:meth:`OperatorProblem.evaluator <pinnkit.pde.OperatorProblem.evaluator>`):

* the network and the derivative backend;
* the PDE parameters as tensors, name -> (0-dim) tensor (the trainer's trainable ones, read on every call);
* :attr:`Evaluator.alphas`, the multi-indices a jet engine (``"taylor"``) propagates: first those the residual
  asks for on the problem's probe, then those the conditions turn out to ask for, learnt after the first pass.

Shapes: a PINN's residual term is (N,) at N points (an (N, 1) result is flattened); an operator problem's is
(M, N) for M input functions (or (M, N, 1)).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..derivatives.backend import Backend, as_backend
from ..derivatives.engine import Derivatives
from ..derivatives.linear_combination import LinearCombination, materialize
from ..derivatives.multi_index import MultiIndex
from ..derivatives.operator_taylor import TaylorDerivatives
from ..derivatives.protocol import traceable_jet
from ..derivatives.reverse import AutogradDerivatives
from ..derivatives.zcs import ZCSDerivatives
from ..geometry.unit_samples import method_for_dim
from .fields import Fields, OperatorFields
from .specification import Batch, Specification, named_residual_terms

#: Points per chunk of :meth:`Evaluator.pde_residual` (a sampler's candidate points).
CHUNK = 16384


@dataclass
class InputBatch:
    """The input functions of one step: ``sensors`` (M, m), their values at the branch net's sensors, and
    ``values`` (M, N), their values at the batch's points (what residuals see as ``f.v``)."""

    sensors: Tensor
    values: Tensor


def split_terms(out, expected: tuple[int, ...]) -> dict[str, Tensor]:
    """A residual function's result as term name -> tensor of shape ``expected`` ((N,) or (M, N)); a trailing
    axis of size 1 is dropped, lazy linear combinations (ZCS) are evaluated, anything else is a ``ValueError``."""
    terms = {}
    for name, value in named_residual_terms(out, (Tensor, LinearCombination)):
        value = materialize(value)
        if not isinstance(value, Tensor):
            raise ValueError(f"residual term {name!r} must be a tensor; got {type(value).__name__}")
        if value.ndim == len(expected) + 1 and value.shape[-1] == 1:
            value = value[..., 0]
        if value.shape != expected:
            what = "(N,) or (N, 1) for N" if len(expected) == 1 else "(M, N) or (M, N, 1) for M functions and N"
            raise ValueError(f"residual term {name!r} must have shape {what} points, here {expected}; got "
                             f"{tuple(value.shape)} (reduce over outputs yourself, or return several terms)")
        terms[name] = value
    return terms


def probe_parameters(spec: Specification) -> dict[str, Tensor]:
    """The specification's PDE parameters as float64 0-dim tensors (probes and evaluators without a trainer)."""
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in spec.parameters.items()}


def call_residual(spec: Specification, fields: Fields):
    """``spec.residual_fn(fields)``, with a name the problem does not have as a ``ValueError``."""
    try:
        return spec.residual_fn(fields)
    except AttributeError as err:
        raise ValueError(f"the residual function uses a name the problem does not have: {err}") from err


class _ProbeNet(nn.Module):
    """A smooth fixed float64 function with ``k`` outputs, for checking residuals at construction."""

    def __init__(self, d: int, k: int):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.w = torch.randn(d, k, generator=g, dtype=torch.float64)
        self.b = torch.randn(k, generator=g, dtype=torch.float64)

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(x @ self.w + self.b)


def pointwise_trial(spec: Specification) -> tuple[list[str], frozenset[MultiIndex]]:
    """The PDE terms of a pointwise residual and the multi-indices it asks for, from one evaluation on a smooth
    probe function at four points of the domain."""
    x = spec.domain.sample_interior(4, method_for_dim("sobol", spec.domain.dim), seed=0, dtype=torch.float64)
    engine = AutogradDerivatives(_ProbeNet(spec.domain.dim, len(spec.outputs)), x)
    terms = split_terms(call_residual(spec, Fields(engine, spec.names, probe_parameters(spec))), (len(x),))
    return list(terms), frozenset(engine.requested)


class Evaluator:
    """Residuals of a :class:`~pinnkit.pde.Problem` for ``net`` (points (N, d) -> outputs (N, k)).

    Parameters
    ----------
    problem : Problem
    net : nn.Module
    backend : str or Backend
        A name of ``pinnkit.derivatives.backend_names("pinn")`` or a :class:`~pinnkit.derivatives.Backend`.
    parameters : mapping name -> Tensor, optional
        The PDE parameters (0-dim tensors, e.g. a trainer's ``nn.ParameterDict``), read on every call; default
        the problem's initial values in float64.
    """

    kind = "pinn"

    def __init__(self, problem: Specification, net: Callable[[Tensor], Tensor], backend: str | Backend = "autograd",
                 parameters: Mapping[str, Tensor] | None = None):
        self.problem, self.net = problem, net
        self.backend = as_backend(backend, self.kind)
        self.parameters = probe_parameters(problem) if parameters is None else parameters
        #: Whether :meth:`residuals` runs as one compiled graph (a compiled backend and a traceable jet).
        self.traced = self.backend.compiled is not None and traceable_jet(net)
        if self.traced:  # its residuals are traced, with the engine's own check left out
            self.backend.check(net, self.kind)
        missing = sorted(set(problem.parameters) - set(self.parameters))
        if missing:
            raise ValueError(f"parameters: the problem's PDE parameters {missing} have no value")
        #: Multi-indices the ``"taylor"`` backend propagates (the residual's, then what conditions asked for).
        self.alphas: set[MultiIndex] = set(problem.residual_alphas)

    def engine(self, points: Tensor) -> Derivatives:
        """The derivative engine of the backend for the network at ``points`` (N, d)."""
        return self.backend.engine(self.net, points, self.alphas)

    def _fields(self, engine: Derivatives) -> Fields:
        return Fields(engine, self.problem.names, dict(self.parameters.items()))

    def _learn(self, engine: Derivatives) -> None:
        """Remember multi-indices a jet engine had to add (asked for by conditions, say) for the next pass."""
        self.alphas |= getattr(engine, "missed", set())

    def residuals(self, batch: Batch) -> dict[str, Tensor]:
        """Per-point residuals of every term, from one forward pass over the batch: (N_term,) each.

        With a compiled backend (``Backend("taylor", compile=True)``) and a network whose jet is traceable
        (:func:`~pinnkit.derivatives.protocol.traceable_jet`: pinnkit's MLP) the whole evaluation, jets, residual
        and conditions, is one compiled graph (:class:`~pinnkit.derivatives.protocol.Compiled`), recompiled only
        when the batch's shapes, the multi-indices or the grad mode change."""
        if self.traced:
            return self.backend.compiled.call(Evaluator._evaluate, self, batch)
        return self._evaluate(batch)

    def residuals_and(self, batch: Batch, then: Callable[[dict[str, Tensor]], Any]) -> tuple[dict[str, Tensor], Any]:
        """:meth:`residuals` and ``then(residuals)`` (the loss terms, say), in the same compiled graph when
        :meth:`residuals` is one: the reduction of the residuals and its backward pass are compiled with them.
        ``then`` should be a module-level function (a new one is traced as a new graph)."""
        if self.traced:
            return self.backend.compiled.call(Evaluator._evaluate_and, self, batch, then)
        return self._evaluate_and(batch, then)

    def _evaluate_and(self, batch: Batch, then: Callable[[dict[str, Tensor]], Any]) -> tuple[dict[str, Tensor], Any]:
        residuals = self._evaluate(batch)
        return residuals, then(residuals)

    def _evaluate(self, batch: Batch) -> dict[str, Tensor]:
        """:meth:`residuals`, eager (compiled as the unbound function ``Evaluator._evaluate``)."""
        engine = self.engine(batch.points)
        fields = self._fields(engine)
        pde = batch.slices["pde"]
        out = split_terms(call_residual(self.problem, fields.restrict(pde)), (pde.stop,))
        for c in self.problem.conditions:
            out[c.name] = c.residual(fields.restrict(batch.slices[c.name]), batch.data[c.name])
        self._learn(engine)
        return out

    def pde_residual(self, points: Tensor, chunk: int = CHUNK) -> Tensor:
        """The PDE residual at ``points`` (N, d), detached: (N,) for one PDE term, (N, m) for m terms.

        For samplers that look at candidate points (RAD, RAR-D); evaluated in chunks of ``chunk`` points.
        """
        out = []
        for part in points.split(chunk):
            engine = self.engine(part)
            terms = list(split_terms(call_residual(self.problem, self._fields(engine)), (len(part),)).values())
            out.append((terms[0] if len(terms) == 1 else torch.stack(terms, dim=-1)).detach())
            self._learn(engine)
        return torch.cat(out)


class _ProbeOperator(nn.Module):
    """A smooth fixed float64 map from (N, d) points to (2 functions, N, k) outputs (construction checks)."""

    def __init__(self, d: int, k: int):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.w = torch.randn(d, k, generator=g, dtype=torch.float64)
        self.scale = torch.tensor([1.0, 2.0], dtype=torch.float64)[:, None, None]

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(self.scale * (x @ self.w) + 0.1)


def operator_trial(spec: Specification, input_name: str) -> tuple[list[str], frozenset[MultiIndex]]:
    """The PDE terms of an operator residual, from one evaluation on a probe of two functions at four points (the
    multi-indices of an operator problem are learnt by its evaluator's first pass)."""
    x = spec.domain.sample_interior(4, method_for_dim("sobol", spec.domain.dim), seed=0, dtype=torch.float64)
    engine = ZCSDerivatives(_ProbeOperator(spec.domain.dim, len(spec.outputs)), x)
    inputs = {input_name: torch.linspace(-1, 1, 8, dtype=torch.float64).reshape(2, 4)}
    fields = OperatorFields(engine, spec.names, probe_parameters(spec), inputs, lazy=True)
    return list(split_terms(call_residual(spec, fields), (2, len(x)))), frozenset()


class OperatorEvaluator:
    """Residuals of an :class:`~pinnkit.pde.OperatorProblem` for an operator network ``net(v, x)``.

    ``net`` maps sensor values (M, m) and points (N, d) to (M, N, k) (and (M, N, d) points to (M, N, k) for
    ``backend="replicated"``), as :class:`~pinnkit.nets.DeepONet` does; ``backend`` is a name of
    ``pinnkit.derivatives.backend_names("operator")`` or a :class:`~pinnkit.derivatives.Backend`; ``parameters``
    as for :class:`Evaluator`.
    """

    kind = "operator"

    def __init__(self, problem, net: nn.Module, backend: str | Backend = "zcs",
                 parameters: Mapping[str, Tensor] | None = None):
        self.problem, self.net = problem, net
        self.backend = as_backend(backend, self.kind)
        self.parameters = probe_parameters(problem.specification) if parameters is None else parameters
        missing = sorted(set(problem.parameters) - set(self.parameters))
        if missing:
            raise ValueError(f"parameters: the problem's PDE parameters {missing} have no value")
        #: Multi-indices the ``"taylor"`` backend propagates in its one trunk pass (learnt from the requests).
        self.alphas: set[MultiIndex] = set()
        #: Whether :meth:`residuals` runs as one compiled graph (a compiled ``"taylor"`` backend and a network
        #: whose trunk jet and branch are forward arithmetic: :func:`~pinnkit.derivatives.traceable_jet`).
        self.traced = (self.backend.compiled is not None and self.backend.name == "taylor"
                       and traceable_jet(net))
        if self.traced:
            self.backend.check(net, self.kind)
        #: Whether a first pass has learnt the multi-indices (a traced evaluation needs them).
        self.learned = False

    def residuals(self, batch: Batch, inputs: InputBatch) -> dict[str, Tensor]:
        """Per-point residuals (M, N_term) of every term for the functions ``inputs`` at ``batch``'s points.

        With a compiled ``"taylor"`` backend and a :class:`~pinnkit.nets.DeepONet` the whole evaluation, branch,
        trunk jet, residual and conditions, is one compiled graph whose backward pass is compiled too (recompiled
        only when the shapes or the multi-indices change), from the second call on: the first, which learns the
        multi-indices, runs eagerly."""
        if not isinstance(inputs, InputBatch):
            raise ValueError(f"residuals of an OperatorProblem need the input functions (an InputBatch from "
                             f"problem.inputs); got {type(inputs).__name__}")
        points = batch.points
        sensors, values = inputs.sensors.to(points), inputs.values.to(points)
        if self.traced and self.learned:
            return self.backend.compiled.call(OperatorEvaluator._evaluate, self, batch, sensors, values)
        # The first pass, which learns the multi-indices, runs eagerly and without compiling the jets: traced, its
        # extra trunk passes came out wrong in torch 2.13 (a derivative residual off by 3e-2 in float64).
        out = self._evaluate(batch, sensors, values, learning=self.traced)
        self.learned = True
        return out

    def _evaluate(self, batch: Batch, sensors: Tensor, values: Tensor, learning: bool = False
                  ) -> dict[str, Tensor]:
        """:meth:`residuals`, eager (compiled as the unbound function ``OperatorEvaluator._evaluate``);
        ``learning``: the traced evaluator's first pass, whose trunk jets are not compiled either."""
        points = batch.points
        engine = (TaylorDerivatives(self.net, sensors, points, self.alphas) if learning
                  else self.backend.operator_engine(self.net, sensors, points, self.alphas))
        spec = self.problem.specification
        fields = OperatorFields(engine, spec.names, dict(self.parameters.items()),
                                {self.problem.input_name: values}, lazy=engine.combines_lazily)
        pde = batch.slices["pde"]
        out = split_terms(call_residual(spec, fields.restrict(pde)), (len(sensors), pde.stop))
        for c in spec.conditions:
            out[c.name] = materialize(c.residual(fields.restrict(batch.slices[c.name]), batch.data[c.name]))
        if self.backend.name == "taylor":
            self.alphas |= engine.requested
        return out
