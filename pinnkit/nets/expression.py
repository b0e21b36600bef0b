r"""A formula of the coordinates as a module: :class:`Expression` (e.g. ``"-sin(pi*x)"`` or ``"t*(1 - x**2)"``).

Hard constraints :math:`u = g + d\,N` need the functions :math:`g` and :math:`d`; written as expressions
they are saved in a checkpoint as text, so that :func:`pinnkit.load` rebuilds a hard-constrained model by
itself (a Python callable cannot be saved with ``weights_only=True``).

The grammar is a small, safe subset of Python's: numbers, the coordinate names, the constants ``pi`` and
``e``, the operators ``+ - * / **`` (and unary ``-``, ``+``), and the functions of :data:`FUNCTIONS` applied
to one argument. Nothing else is evaluated: a name, attribute or call outside this list is a ``ValueError``
at construction.

A formula may come from a file, so its size is checked before it is parsed or compiled: at most
:data:`MAX_LENGTH` characters, :data:`MAX_NODES` syntax-tree nodes and :data:`MAX_NESTING` levels of nesting,
and every number finite in float64 (else a ``ValueError`` saying which limit).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from .mlp import check_points
from .registry import register_net

#: The functions an expression may call, each of one tensor argument.
FUNCTIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp, "log": torch.log,
    "sqrt": torch.sqrt, "tanh": torch.tanh, "sinh": torch.sinh, "cosh": torch.cosh, "abs": torch.abs,
}
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY = {ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div, ast.Pow: torch.pow}

Node = Callable[[Tensor], "Tensor | float"]

#: The longest formula text, in characters.
MAX_LENGTH = 10_000
#: The most syntax-tree nodes of a formula (numbers, names, operators, calls).
MAX_NODES = 2_000
#: The deepest nesting of a formula's syntax tree (parentheses, operators and calls inside each other).
MAX_NESTING = 100


def _nesting(tree: ast.AST) -> int:
    """The depth of ``tree``, without recursion (a deep tree must not overflow the stack here)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if level <= MAX_NESTING:
            stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


@register_net
class Expression(nn.Module):
    r"""``f(x)``: a formula of the coordinates, ``(..., d) -> (...,)``.

    Arguments
    ---------
    text: the formula, e.g. ``"-sin(pi*x)"``, ``"t*(1 - x**2)"``, ``"x*(1 - x)*y*(1 - y)"``.
    coordinates: the names of the input columns in order, e.g. ``("x", "t")`` (a geometry's ``names``).

    >>> import torch
    >>> g = Expression("t*(1 - x**2)", ("x", "t"))
    >>> g(torch.tensor([[0.5, 2.0], [1.0, 3.0]]))
    tensor([1.5000, 0.0000])

    A constant formula returns the constant at every point. ``config`` is ``{"text", "coordinates"}``.
    """

    def __init__(self, text: str, coordinates: Sequence[str]):
        super().__init__()
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"text must be a non-empty formula such as '-sin(pi*x)'; got {text!r}")
        if isinstance(coordinates, str) or not all(isinstance(c, str) and c.isidentifier() for c in coordinates):
            raise ValueError(f"coordinates must be a sequence of names such as ('x', 't'); got {coordinates!r}")
        coordinates = tuple(coordinates)
        if not coordinates or len(set(coordinates)) != len(coordinates):
            raise ValueError(f"coordinates must be distinct and at least one; got {coordinates}")
        clash = sorted(set(coordinates) & (set(FUNCTIONS) | set(CONSTANTS)))
        if clash:
            raise ValueError(f"coordinates must not be named like a function or constant: {clash}")
        self.text, self.coordinates = text, coordinates
        self.inputs = len(coordinates)
        if len(text) > MAX_LENGTH:
            raise ValueError(f"text is a formula of {len(text):,} characters, more than MAX_LENGTH={MAX_LENGTH:,} "
                             f"(it starts {text[:40]!r})")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except (SyntaxError, ValueError, MemoryError, RecursionError) as err:
            reason = err.msg if isinstance(err, SyntaxError) else f"{type(err).__name__}: {err}"
            raise ValueError(f"text {text[:80]!r} is not a valid formula: {reason}") from None
        nodes = sum(1 for _ in ast.walk(tree))
        if nodes > MAX_NODES:
            raise ValueError(f"text {text[:40]!r}... has {nodes:,} syntax-tree nodes, more than "
                             f"MAX_NODES={MAX_NODES:,}")
        if _nesting(tree) > MAX_NESTING:
            raise ValueError(f"text {text[:40]!r}... nests deeper than MAX_NESTING={MAX_NESTING}")
        self._evaluate = self._compile(tree.body)

    def _compile(self, node: ast.AST) -> Node:
        """A function of the points for ``node``, checked against the grammar (see the module docstring)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
                node.value, bool):
            try:
                value = float(node.value)
            except OverflowError:
                value = math.inf
            if not math.isfinite(value):
                raise ValueError(f"{self.text[:80]!r}: the number {str(node.value)[:40]} is not finite in float64")
            return lambda x: value
        if isinstance(node, ast.Name):
            if node.id in self.coordinates:
                i = self.coordinates.index(node.id)
                return lambda x: x[..., i]
            if node.id in CONSTANTS:
                value = CONSTANTS[node.id]
                return lambda x: value
            raise ValueError(f"{self.text!r}: unknown name {node.id!r}; expected one of the coordinates "
                             f"{self.coordinates} or the constants {sorted(CONSTANTS)}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self._compile(node.operand)
            if isinstance(node.op, ast.UAdd):
                return operand
            return lambda x: -operand(x)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right, op = self._compile(node.left), self._compile(node.right), _BINARY[type(node.op)]

            def binary(x: Tensor) -> Tensor | float:
                a, b = left(x), right(x)
                if not isinstance(a, Tensor) and not isinstance(b, Tensor):
                    return float(op(torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)))
                return op(a, b)

            return binary
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
            if len(node.args) != 1 or node.keywords:
                raise ValueError(f"{self.text!r}: {node.func.id}() takes exactly one argument")
            fn, arg = FUNCTIONS[node.func.id], self._compile(node.args[0])

            def call(x: Tensor) -> Tensor | float:
                a = arg(x)
                return fn(a) if isinstance(a, Tensor) else float(fn(torch.tensor(a, dtype=torch.float64)))

            return call
        part = ast.get_source_segment(self.text.strip(), node) or type(node).__name__
        raise ValueError(f"{self.text!r}: {part!r} is not allowed; a formula uses numbers, the coordinates "
                         f"{self.coordinates}, pi, e, + - * / ** and the functions {sorted(FUNCTIONS)}")

    def forward(self, x: Tensor) -> Tensor:
        """``(..., d) -> (...,)``."""
        check_points(x, self.inputs)
        value = self._evaluate(x)
        if not isinstance(value, Tensor):
            return torch.full(x.shape[:-1], value, dtype=x.dtype, device=x.device)
        return value

    def extra_repr(self) -> str:
        return f"{self.text!r}, coordinates={self.coordinates}"

    @property
    def config(self) -> dict:
        """Constructor arguments, JSON-serialisable: ``{"text": ..., "coordinates": [...]}``."""
        return {"text": self.text, "coordinates": list(self.coordinates)}
