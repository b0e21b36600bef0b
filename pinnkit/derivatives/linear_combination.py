r"""Lazy linear combinations of derivatives, for engines that combine cheaply (:meth:`Derivatives.combine
<pinnkit.derivatives.engine.Derivatives.combine>`: ZCS, the DeepONet Taylor engine).

With zero coordinate shift every derivative field is :math:`\partial^\alpha u = \partial_a \omega_\alpha` for the
scalar :math:`\omega_\alpha = \partial^\alpha_z \sum a \odot u` (see :mod:`pinnkit.derivatives.zcs`). A linear
combination is linear in ``a`` too:

.. math:: \sum_i c_i\, \partial^{\alpha_i} u = \partial_a \Big( \sum_i c_i\, \omega_{\alpha_i} \Big),

so the terms can be combined as *scalars* and differentiated with respect to ``a`` once, instead of once per
term (ALGORITHMS.md, ZCS: "combine linear terms at scalar level"). The backward pass to ``a`` and the later
backward pass of the loss through it are the expensive parts, so ``u_t - 0.01 u_xx`` costs about as much as
``u_xx`` alone.

:class:`LinearCombination` makes a residual written naturally, ``f.u_t - D * f.u_xx + k * f.u**2 - f.v``, get
this for free: derivative fields come back lazy; adding them, scaling them by numbers (or 0-dimensional tensors
such as trainable PDE parameters) and adding plain tensors keeps them lazy; anything else (a product with a
field, ``**``, a torch function, ``.shape``) turns the combination into a plain tensor first. It is a small
plain Python class, not a ``Tensor`` subclass; :func:`materialize` gives the tensor.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from .engine import Coefficient, Derivatives
from .multi_index import MultiIndex

Key = tuple[int, MultiIndex]


def _is_scalar(value: Any) -> bool:
    return (isinstance(value, numbers.Number) and not isinstance(value, bool)) or (
        isinstance(value, Tensor) and value.ndim == 0)


class LinearCombination:
    """``sum_i c_i d^{alpha_i} u_{j_i} + rest`` over one engine, evaluated on first use (see module docstring);
    the engine's ``combine(j, [(alpha, c), ...])`` forms each output's combined field (ZCS: one backward pass to
    ``a``; :class:`~pinnkit.derivatives.operator_taylor.TaylorDerivatives`: on the trunk jets).

    ``terms`` maps ``(output j, multi-index alpha)`` (alpha non-empty) to a coefficient (number or 0-d tensor);
    ``rest`` is a plain tensor (or None) added at the end; ``take`` restricts a field of the engine's shape
    ``(..., N)`` to the rows of the fields that made it, and ``rows`` identifies those rows.
    """

    __slots__ = ("_engine", "_terms", "_rest", "_take", "_rows", "_value")

    def __init__(self, engine: Derivatives, terms: dict[Key, Coefficient], rest: Tensor | float | None,
                 take: Callable[[Tensor], Tensor], rows: slice | None):
        self._engine, self._terms, self._rest = engine, terms, rest
        self._take, self._rows = take, rows
        self._value: Tensor | None = None

    # ------------------------------------------------------------------ evaluation
    @property
    def value(self) -> Tensor:
        """The combination as a plain tensor (computed once)."""
        if self._value is None:
            self._value = self._evaluate()
        return self._value

    def _evaluate(self) -> Tensor:
        by_output: dict[int, list[tuple[MultiIndex, Coefficient]]] = {}
        for (j, alpha), c in self._terms.items():
            by_output.setdefault(j, []).append((alpha, c))
        total: Tensor | None = None
        engine = self._engine
        for j, items in by_output.items():
            if len(items) == 1 and isinstance(items[0][1], numbers.Number) and items[0][1] == 1:
                field = engine(j, items[0][0])  # a single derivative: the engine's cached field
            else:
                field = engine.combine(j, items)  # ZCS: one backward pass to a; Taylor: on the trunk jets
            total = field if total is None else total + field
        out = self._take(total)
        return out if self._rest is None else out + self._rest

    # ------------------------------------------------------------------ lazy arithmetic
    def _same_rows(self, other: LinearCombination) -> bool:
        return other._engine is self._engine and other._rows == self._rows

    def _with(self, terms: dict[Key, Coefficient], rest) -> LinearCombination:
        return LinearCombination(self._engine, terms, rest, self._take, self._rows)

    def _scaled(self, c: Coefficient) -> LinearCombination:
        rest = None if self._rest is None else self._rest * c
        return self._with({k: v * c for k, v in self._terms.items()}, rest)

    def _plus(self, other) -> LinearCombination | Tensor:
        if isinstance(other, LinearCombination):
            if not self._same_rows(other):
                return self.value + other.value
            terms = dict(self._terms)
            for k, v in other._terms.items():
                terms[k] = terms[k] + v if k in terms else v
            rest = other._rest if self._rest is None else (
                self._rest if other._rest is None else self._rest + other._rest)
            return self._with(terms, rest)
        if isinstance(other, (Tensor, numbers.Number)) and not isinstance(other, bool):
            return self._with(dict(self._terms), other if self._rest is None else self._rest + other)
        return NotImplemented

    def __add__(self, other):
        return self._plus(other)

    __radd__ = __add__

    def __neg__(self):
        return self._scaled(-1.0)

    def __pos__(self):
        return self

    def __sub__(self, other):
        if isinstance(other, LinearCombination):
            return self._plus(-other)
        if isinstance(other, (Tensor, numbers.Number)) and not isinstance(other, bool):
            return self._plus(-other)
        return NotImplemented

    def __rsub__(self, other):
        return (-self)._plus(other)

    def __mul__(self, other):
        if _is_scalar(other):
            return self._scaled(other)
        if isinstance(other, LinearCombination):
            return self.value * other.value
        return self.value * other

    __rmul__ = __mul__

    def __truediv__(self, other):
        if _is_scalar(other):
            return self._scaled(1.0 / other)
        return self.value / materialize(other)

    def __rtruediv__(self, other):
        return other / self.value

    def __pow__(self, other):
        return self.value ** materialize(other)

    def __rpow__(self, other):
        return other ** self.value

    def __abs__(self):
        return self.value.abs()

    def __lt__(self, other):
        return self.value < materialize(other)

    def __le__(self, other):
        return self.value <= materialize(other)

    def __gt__(self, other):
        return self.value > materialize(other)

    def __ge__(self, other):
        return self.value >= materialize(other)

    def __getitem__(self, index):
        return self.value[index]

    def __len__(self) -> int:
        return len(self.value)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.value, name)  # .shape, .dtype, .square(), ... of the plain tensor

    def __repr__(self) -> str:
        names = " + ".join(f"{c!r} * d{alpha}(u{j})" for (j, alpha), c in self._terms.items())
        return f"LinearCombination({names}{' + rest' if self._rest is not None else ''})"

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """Torch functions see plain tensors, except that ``tensor + lazy``, ``tensor - lazy`` and
        ``scalar_tensor * lazy`` stay lazy."""
        kwargs = kwargs or {}
        if not kwargs and len(args) == 2 and isinstance(args[1], LinearCombination) and isinstance(args[0], Tensor):
            left, right = args
            if func in (Tensor.__add__, Tensor.__radd__, torch.add):
                return right._plus(left)
            if func is Tensor.__sub__ or func is torch.sub:
                return (-right)._plus(left)
            if func in (Tensor.__mul__, Tensor.__rmul__, torch.mul) and left.ndim == 0:
                return right._scaled(left)
        return func(*_materialize_all(args), **_materialize_all(kwargs))


def materialize(value):
    """``value`` as a plain tensor if it is a :class:`LinearCombination`, else unchanged."""
    return value.value if isinstance(value, LinearCombination) else value


def _materialize_all(obj):
    if isinstance(obj, LinearCombination):
        return obj.value
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialize_all(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _materialize_all(v) for k, v in obj.items()}
    return obj
