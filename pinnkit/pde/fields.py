"""What a residual function sees: outputs, their derivatives, coordinates and PDE parameters, by name.

>>> def burgers(f):
...     return f.u_t + f.u * f.u_x - nu * f.u_xx

Attribute names resolve, in this order, to

* an output (``f.u``), a coordinate (``f.x``, ``f.t``) or a named PDE parameter (``f.nu``);
* a derivative ``<output>_<coordinates>``: ``f.u_xx`` is ``d^2 u / dx^2``, ``f.v_xyt`` is
  ``d^3 v / dx dy dt``; with multi-letter coordinate names (``x1, x2, ...``) the names are concatenated,
  ``f.u_x1x2``. :meth:`Fields.d` is the explicit form: ``f.d("u", "x", "x")``.

Linear differential operators are methods: ``f.laplacian("u")`` and ``f.apply(op, "u")`` for an operator object of
:mod:`pinnkit.derivatives.operators` (``SecondOrder(matrix=A)``, ``Biharmonic()``): exact with every backend, and
estimated with random jets under ``Backend("stde", directions=K)``, so that a high-dimensional residual reads like
its equation (``f.laplacian("u") + f.u ** 3 - f.u - s``).

Everything is a plain tensor of the batch shape (``(N,)`` for N points). Values are computed on first use
and cached by the derivative engine for this forward pass.
"""

from __future__ import annotations

import re

import torch
from torch import Tensor

from ..derivatives.engine import Derivatives
from ..derivatives.linear_combination import LinearCombination
from ..derivatives.multi_index import MultiIndex
from ..derivatives.operators import Laplacian, Operator


class NameResolver:
    """Parses attribute names against output, coordinate and parameter names (validated once, reused)."""

    def __init__(self, outputs: tuple[str, ...], coords: tuple[str, ...], parameters: tuple[str, ...] = ()):
        for kind, names in (("outputs", outputs), ("coordinates", coords), ("parameters", parameters)):
            for name in names:
                if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
                    raise ValueError(f"{kind} names must be identifiers not starting with '_'; got {name!r}")
        taken = list(outputs) + list(coords) + list(parameters)
        clash = sorted({n for n in taken if taken.count(n) > 1})
        if clash:
            raise ValueError(f"output, coordinate and parameter names must be distinct; {clash} used twice")
        self.outputs, self.coords, self.parameters = outputs, coords, parameters
        self._coord_pattern = re.compile("|".join(re.escape(c) for c in sorted(coords, key=len, reverse=True)))
        self._memo: dict[str, tuple[str, object] | None] = {}

    def coordinate_indices(self, coords: str | tuple[str, ...]) -> MultiIndex:
        """Indices of ``coords``: a tuple of names, or one string of concatenated names (``"xxt"``)."""
        if isinstance(coords, str):
            coords = self._split(coords)
            if coords is None:
                raise ValueError(f"cannot read coordinates from {coords!r}; coordinates are {self.coords}")
        unknown = [c for c in coords if c not in self.coords]
        if unknown:
            raise ValueError(f"unknown coordinate(s) {unknown}; the problem's coordinates are {self.coords}")
        return tuple(sorted(self.coords.index(c) for c in coords))

    def _split(self, text: str) -> tuple[str, ...] | None:
        tokens, pos = [], 0
        while pos < len(text):
            m = self._coord_pattern.match(text, pos)
            if not m:
                return None
            tokens.append(m.group())
            pos = m.end()
        return tuple(tokens) if tokens else None

    def resolve(self, name: str) -> tuple[str, object] | None:
        """``("output", j)``, ``("coord", i)``, ``("parameter", name)``, ``("derivative", (j, alpha))``, or None."""
        if name in self._memo:
            return self._memo[name]
        found: tuple[str, object] | None = None
        if name in self.outputs:
            found = ("output", self.outputs.index(name))
        elif name in self.coords:
            found = ("coord", self.coords.index(name))
        elif name in self.parameters:
            found = ("parameter", name)
        else:
            for j, out in enumerate(self.outputs):
                if name.startswith(out + "_"):
                    coords = self._split(name[len(out) + 1:])
                    if coords is not None:
                        found = ("derivative", (j, tuple(sorted(self.coords.index(c) for c in coords))))
                        break
        self._memo[name] = found
        return found

    def describe(self) -> str:
        example = f"{self.outputs[0]}_{self.coords[0]}{self.coords[0]}" if self.outputs and self.coords else ""
        return (f"outputs {self.outputs}, coordinates {self.coords}, parameters {self.parameters}, or a derivative "
                f"such as {example!r}")


class Fields:
    """Named access to one forward pass: see the module docstring.

    ``engine`` computes outputs and derivatives at the points; ``parameters`` maps PDE parameter names to
    tensors; ``rows`` (optional) restricts every value to a slice of the points (a condition's share of a
    batch evaluated in one forward pass). For points (N, d), every output, coordinate and derivative
    (``f.u``, ``f.x``, ``f.u_xx``) is a tensor of shape (N,).
    """

    def __init__(self, engine: Derivatives, names: NameResolver, parameters: dict[str, Tensor] | None = None,
                 rows: slice | None = None):
        self._engine, self._names = engine, names
        self._parameters = parameters or {}
        self._rows = rows

    def restrict(self, rows: slice) -> Fields:
        """The same fields on a slice of the points (no recomputation: values are sliced from the cache)."""
        return Fields(self._engine, self._names, self._parameters, rows)

    def _take(self, value: Tensor, trailing: int = 0) -> Tensor:
        """``value`` restricted to the rows, along the points axis: the last axis but ``trailing`` (values of a
        batch shape ``(..., N)``, e.g. (M functions, N points) in operator learning, are sliced along N)."""
        if self._rows is None:
            return value
        return value[(Ellipsis, self._rows) + (slice(None),) * trailing]

    @property
    def points(self) -> Tensor:
        """The points (N, d) this forward pass was evaluated at."""
        return self._take(self._engine.x, 1)

    @property
    def outputs(self) -> Tensor:
        """All outputs (N, k)."""
        return self._take(self._engine.u, 1)

    def d(self, output: str, *coords: str) -> Tensor:
        """``d^n output / d coords[0] ... d coords[n-1]``; no coordinates gives the output itself."""
        if output not in self._names.outputs:
            raise ValueError(f"unknown output {output!r}; the problem's outputs are {self._names.outputs}")
        alpha = self._names.coordinate_indices(tuple(coords)) if coords else ()
        return self._take(self._engine(self._names.outputs.index(output), alpha))

    def gradient(self, output: str) -> Tensor:
        """All first partials of ``output``, stacked as (N, d) in coordinate order."""
        if output not in self._names.outputs:
            raise ValueError(f"unknown output {output!r}; the problem's outputs are {self._names.outputs}")
        j = self._names.outputs.index(output)
        return self._take(torch.stack([self._engine(j, (i,)) for i in range(self._engine.dim)], dim=-1), 1)

    def apply(self, operator: Operator, output: str) -> Tensor:
        """The linear differential ``operator`` applied to ``output`` (exact, or estimated by the ``"stde"``
        backend; module docstring)."""
        if not isinstance(operator, Operator):
            raise ValueError(f"operator must be a pinnkit.derivatives.operators.Operator (Laplacian(), "
                             f"SecondOrder(...), Biharmonic()); got {type(operator).__name__}")
        if output not in self._names.outputs:
            raise ValueError(f"unknown output {output!r}; the problem's outputs are {self._names.outputs}")
        return self._take(self._engine.apply(operator, self._names.outputs.index(output)))

    def laplacian(self, output: str) -> Tensor:
        """The Laplacian of ``output`` in all the coordinates: ``f.apply(Laplacian(), output)``."""
        return self.apply(Laplacian(), output)

    def __getattr__(self, name: str) -> Tensor:
        if name.startswith("_"):
            raise AttributeError(name)
        found = self._names.resolve(name)
        if found is None:
            raise AttributeError(f"{name!r} is not a field of this problem: expected {self._names.describe()}")
        kind, key = found
        if kind == "output":
            return self._take(self._engine(key))
        if kind == "coord":
            return self._take(self._engine.x[..., key])
        if kind == "parameter":
            return self._parameters[key]
        j, alpha = key
        return self._take(self._engine(j, alpha))

    def __getitem__(self, name: str) -> Tensor:
        return getattr(self, name)


class OperatorFields(Fields):
    """:class:`~pinnkit.pde.fields.Fields` of a batch of functions, plus the input function by name: for M
    functions at N points every value (``f.u``, ``f.u_x``, the input ``f.v``) has shape (M, N).

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
