r"""Linear differential operators as objects: what a residual applies to an output (``f.apply(op, "u")``,
``f.laplacian("u")``), computed exactly by any derivative engine or estimated by the STDE engine.

An :class:`Operator` knows three ways to be evaluated on a network's output ``u``:

* :meth:`Operator.terms`: its expansion :math:`\sum_\alpha c_\alpha \partial^\alpha` over multi-indices, what every
  engine of :mod:`pinnkit.derivatives` evaluates exactly (:meth:`Derivatives.apply
  <pinnkit.derivatives.engine.Derivatives.apply>`, the default for every backend but ``"stde"``); it has
  :math:`O(d)` terms for the Laplacian and :math:`O(d^2)` for a full matrix or the biharmonic;
* :meth:`Operator.exact`: the exact value by directional jets (:mod:`pinnkit.derivatives.stochastic`);
* :meth:`Operator.estimate`: the unbiased random-jet estimate with K directions (STDE, Shi et al. 2024).

:class:`Laplacian` and :class:`Biharmonic` are values (equal when of the same kind); a :class:`SecondOrder` is equal
only to itself (its coefficients are tensors). Engines cache :meth:`Derivatives.apply` per operator and output.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from . import stochastic
from .multi_index import MultiIndex

Net = Callable[[Tensor], Tensor]


class Operator(abc.ABC):
    """A linear differential operator with constant coefficients in the input coordinates (module docstring)."""

    #: The distribution its estimate uses unless told otherwise.
    default_distribution = "rademacher"

    @abc.abstractmethod
    def terms(self, dim: int) -> list[tuple[MultiIndex, float]]:
        """``[(alpha, c_alpha), ...]``: the operator as :math:`\\sum c_\\alpha \\partial^\\alpha` in ``dim``
        coordinates (non-empty multi-indices, each once)."""

    @abc.abstractmethod
    def exact(self, net: Net, x: Tensor) -> Tensor:
        """The operator applied to every output of ``net`` at ``x`` (N, d), by jets: (N, k)."""

    @abc.abstractmethod
    def estimate(self, net: Net, x: Tensor, directions: int, distribution: str | None = None,
                 generator: torch.Generator | None = None, per_point: bool = False) -> Tensor:
        """The unbiased estimate with ``directions`` random directions (``distribution``: default
        :attr:`default_distribution`): (N, k)."""


@dataclass(frozen=True)
class Laplacian(Operator):
    r""":math:`\Delta u = \sum_i \partial_i^2 u`; estimated by Hutchinson's estimator
    (:func:`~pinnkit.derivatives.stochastic.laplacian_estimate`)."""

    def terms(self, dim):
        return [((i, i), 1.0) for i in range(dim)]

    def exact(self, net, x):
        return stochastic.laplacian_exact(net, x)

    def estimate(self, net, x, directions, distribution=None, generator=None, per_point=False):
        return stochastic.laplacian_estimate(net, x, directions, distribution or self.default_distribution,
                                             generator, per_point)


@dataclass(frozen=True)
class Biharmonic(Operator):
    r""":math:`\Delta^2 u = \sum_{ij} \partial_i^2 \partial_j^2 u`; estimated by fourth-order Gaussian jets
    (:func:`~pinnkit.derivatives.stochastic.biharmonic_estimate`)."""

    default_distribution = "gaussian"

    def terms(self, dim):
        return [((i, i, j, j), 1.0 if i == j else 2.0) for i in range(dim) for j in range(i, dim)]

    def exact(self, net, x):
        return stochastic.biharmonic_exact(net, x)

    def estimate(self, net, x, directions, distribution=None, generator=None, per_point=False):
        return stochastic.biharmonic_estimate(net, x, directions, distribution or self.default_distribution,
                                              generator, per_point)


class SecondOrder(Operator):
    r""":math:`\sum_{ij} A_{ij}\, \partial_i \partial_j u = \operatorname{tr}(A \nabla^2 u)` for a constant symmetric
    ``A``, given by exactly one of

    * ``matrix``: ``A`` (d, d), symmetrised and split by its eigendecomposition :math:`A = Q \Lambda Q^\top` into
      :math:`L_+ L_+^\top - L_- L_-^\top`, :math:`L_\pm = Q\, \max(\pm\Lambda, 0)^{1/2}` (columns of zero
      eigenvalues dropped);
    * ``factor``: ``L`` (d, r) with :math:`A = L L^\top` (positive semi-definite; e.g. a diffusion matrix
      :math:`\frac12 \sigma\sigma^\top` has ``L = sigma / sqrt(2)``);
    * ``diagonal``: ``a`` (d,), :math:`A = \operatorname{diag}(a)`, kept as two (d,) factors
      :math:`\sqrt{\max(\pm a, 0)}`, so that nothing of size :math:`d^2` is built.

    The estimate draws :math:`v = L_\pm z` with :math:`E[zz^\top] = I` for each part (K directions each), so that
    :math:`E[v^\top \nabla^2 u\, v] = \operatorname{tr}(L_\pm L_\pm^\top \nabla^2 u)`
    (:func:`~pinnkit.derivatives.stochastic.second_order_estimate`).
    """

    def __init__(self, matrix: Tensor | None = None, *, factor: Tensor | None = None,
                 diagonal: Tensor | None = None):
        given = [name for name, value in (("matrix", matrix), ("factor", factor), ("diagonal", diagonal))
                 if value is not None]
        if len(given) != 1:
            raise ValueError(f"SecondOrder needs exactly one of matrix, factor, diagonal; got {given or 'none'}")
        self.parts: list[tuple[float, Tensor]] = []
        if matrix is not None:
            a = torch.as_tensor(matrix, dtype=torch.float64)
            if a.ndim != 2 or a.shape[0] != a.shape[1]:
                raise ValueError(f"matrix must be square (d, d); got shape {tuple(a.shape)}")
            values, vectors = torch.linalg.eigh((a + a.T) / 2)
            scale = values.abs().max().clamp_min(1e-300)
            for sign in (1.0, -1.0):
                keep = sign * values > 1e-14 * scale
                if bool(keep.any()):
                    self.parts.append((sign, vectors[:, keep] * (sign * values[keep]).sqrt()))
        elif factor is not None:
            f = torch.as_tensor(factor, dtype=torch.float64)
            if f.ndim != 2:
                raise ValueError(f"factor must be a (d, r) matrix; got shape {tuple(f.shape)}")
            self.parts.append((1.0, f))
        else:
            a = torch.as_tensor(diagonal, dtype=torch.float64)
            if a.ndim != 1:
                raise ValueError(f"diagonal must be a (d,) vector; got shape {tuple(a.shape)}")
            for sign in (1.0, -1.0):
                part = (sign * a).clamp_min(0)
                if bool((part > 0).any()):
                    self.parts.append((sign, part.sqrt()))
        self.dim = int(self.parts[0][1].shape[0]) if self.parts else None

    def __repr__(self) -> str:
        return f"SecondOrder(dim={self.dim}, parts={len(self.parts)})"

    def _check(self, x: Tensor) -> None:
        if self.dim is not None and x.shape[-1] != self.dim:
            raise ValueError(f"SecondOrder of dimension {self.dim} applied at points of dimension {x.shape[-1]}")

    def matrix(self) -> Tensor:
        """``A`` (d, d), float64 (small d: it has :math:`d^2` entries)."""
        total = None
        for sign, f in self.parts:
            a = torch.diag(f * f) if f.ndim == 1 else f @ f.T
            total = sign * a if total is None else total + sign * a
        return total

    def terms(self, dim):
        if not self.parts:
            return []
        a = self.matrix()
        if a.shape[0] != dim:
            raise ValueError(f"SecondOrder of dimension {a.shape[0]} applied in {dim} coordinates")
        out = []
        for i in range(dim):
            for j in range(i, dim):
                c = float(a[i, j]) * (1 if i == j else 2)
                if c != 0:
                    out.append(((i, j), c))
        return out

    def _sum(self, x: Tensor, compute: Callable[[Tensor], Tensor], net: Net) -> Tensor:
        self._check(x)
        total = None
        for sign, f in self.parts:
            value = compute(f.to(x))
            total = sign * value if total is None else total + sign * value
        return total if total is not None else torch.zeros_like(net(x))

    def exact(self, net, x):
        return self._sum(x, lambda f: stochastic.second_order_exact(net, x, f), net)

    def estimate(self, net, x, directions, distribution=None, generator=None, per_point=False):
        distribution = distribution or self.default_distribution
        return self._sum(x, lambda f: stochastic.second_order_estimate(net, x, f, directions, distribution,
                                                                       generator, per_point), net)
