r"""The derivative engine's interface: a network's outputs and their partial derivatives with respect to the input
coordinates, computed lazily and cached for one forward pass.

Every engine needs a *pointwise* network: output row ``n`` depends on input row ``n`` only (true of MLPs and
their relatives; not of batch normalisation or attention across points). For points ``x`` (..., d) and outputs
``u`` (..., k), ``engine(j, alpha)`` is :math:`\partial^\alpha u_j` (...,), ``alpha`` a multi-index
(:mod:`pinnkit.derivatives.multi_index`). The engines are :class:`~pinnkit.derivatives.reverse.AutogradDerivatives`
(reverse mode), :class:`~pinnkit.derivatives.zcs.ZCSDerivatives` (zero coordinate shift),
:class:`~pinnkit.derivatives.taylor.JetDerivatives` (Taylor mode) and, for operator networks,
:class:`~pinnkit.derivatives.operator_taylor.TaylorDerivatives`, :class:`~pinnkit.derivatives.loop.LoopDerivatives`
and :class:`~pinnkit.derivatives.replicated.ReplicatedDerivatives`; :mod:`pinnkit.derivatives.backend` builds them
by name.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from .multi_index import MultiIndex, normalise

if TYPE_CHECKING:
    from .operators import Operator

Coefficient = float | Tensor


def _grad(y: Tensor, x: Tensor) -> Tensor:
    """``d y / d x`` keeping the graph; zeros when ``y`` does not depend on ``x``."""
    if not y.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(y, x, create_graph=True, allow_unused=True, materialize_grads=True)
    return g


class Derivatives(abc.ABC):
    """Outputs ``u`` (..., k) of ``net`` at points ``x`` (..., d) and cached partial derivatives.

    :attr:`requested` collects the multi-indices asked for (what a Taylor-mode engine must propagate).
    :attr:`combines_lazily` is true for engines whose :meth:`combine` is cheaper than summing the fields (ZCS and
    the DeepONet Taylor engine), for which operator residuals keep linear combinations lazy
    (:class:`~pinnkit.derivatives.linear_combination.LinearCombination`).
    """

    combines_lazily: bool = False

    def __init__(self, net: Callable[[Tensor], Tensor] | None, x: Tensor):
        if not isinstance(x, Tensor) or x.ndim < 1:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"points must have shape (N, d); got {shape}")
        self.dim = x.shape[-1]
        self.x, self.u = self._forward(net, x)
        if not isinstance(self.u, Tensor) or self.u.ndim < 1:
            shape = tuple(self.u.shape) if isinstance(self.u, Tensor) else type(self.u).__name__
            raise ValueError(f"the network must return an (N, outputs) tensor; got {shape}")
        self._cache: dict[tuple[int, MultiIndex], Tensor] = {}
        self._applied: dict[tuple[object, int], Tensor] = {}
        self.requested: set[MultiIndex] = set()

    @abc.abstractmethod
    def _forward(self, net: Callable[[Tensor], Tensor] | None, x: Tensor) -> tuple[Tensor, Tensor]:
        """(the points as used, the outputs)."""

    @abc.abstractmethod
    def _compute(self, output: int, alpha: MultiIndex) -> Tensor:
        """``d^alpha u_output`` for a non-empty multi-index, not yet cached."""

    def __call__(self, output: int, alpha: MultiIndex = ()) -> Tensor:
        """``d^alpha u_output``, shape ``u.shape[:-1]``; ``alpha = ()`` is the output itself."""
        if not alpha:
            return self.u[..., output]
        alpha = normalise(alpha)
        self.requested.add(alpha)
        key = (output, alpha)
        if key not in self._cache:
            self._cache[key] = self._compute(output, alpha)
        return self._cache[key]

    def apply(self, operator: Operator, output: int) -> Tensor:
        """A linear differential ``operator`` (:mod:`pinnkit.derivatives.operators`) applied to ``u_output``, shape
        ``u.shape[:-1]``, cached per operator and output. This default is exact: :meth:`combine` of the
        operator's terms (:math:`O(d)` derivative fields for the Laplacian); the ``"stde"`` engine
        (:class:`~pinnkit.derivatives.stde.StochasticDerivatives`) estimates it with random jets instead."""
        key = (operator, output)
        if key not in self._applied:
            self._applied[key] = self.combine(output, operator.terms(self.dim))
        return self._applied[key]

    def combine(self, output: int, items: Sequence[tuple[MultiIndex, Coefficient]]) -> Tensor:
        r""":math:`\sum_i c_i \partial^{\alpha_i} u_{output}` for ``items = [(alpha_i, c_i), ...]`` (non-empty
        multi-indices, at least one); this default sums the cached fields."""
        if not items:
            raise ValueError("combine needs at least one (multi-index, coefficient) pair")
        total: Tensor | None = None
        for alpha, c in items:
            term = self(output, alpha) * c
            total = term if total is None else total + term
        return total
