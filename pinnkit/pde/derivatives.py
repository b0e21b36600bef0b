"""Derivative engines: a network's outputs and their partial derivatives with respect to the input
coordinates, computed lazily and cached for one forward pass.

Both engines need a *pointwise* network: output row ``n`` depends on input row ``n`` only (true of MLPs and
their relatives; not of batch normalisation or attention across points).

* :class:`AutogradDerivatives`: reverse mode on the coordinates. The points ``x`` (N, d) are a leaf that
  requires grad; ``d u_j / d x`` for all d coordinates comes from one backward pass of ``sum_n u_j(x_n)``
  (pointwise nets make the sum's gradient the per-point gradient), and every higher order from the
  cached order below it.
* :class:`ZCSDerivatives`: zero coordinate shift (Leng, Shankar & Thiyagalingam, arXiv 2311.00860).
  One scalar leaf per coordinate, ``z`` (d,) = 0, shifts every point: ``u = net(x + z)``. With a dummy
  ``a = ones_like(u)`` and the single scalar root ``omega = sum(a * u)``,
  ``d^alpha u = d/da [ d^|alpha| omega / dz^alpha ]``, because shifting all points by ``z_i`` is the same as
  differentiating each output with respect to its own ``x_i``. The scalar derivatives of ``omega`` are
  cached per multi-index, each built from the closest cached lower order; only the final ``d/da`` is
  per-point. The graph stays small even when ``u`` has many functions (operator learning).
* :class:`~pinnkit.pde.jet_derivatives.JetDerivatives`: Taylor mode, a forward pass that carries the
  derivatives through the network (pinnkit's MLP); no reverse-mode derivative passes at all. Needs the
  multi-indices up front, which a :class:`~pinnkit.Problem` records from its residual.

A multi-index ``alpha`` is a sorted tuple of coordinate indices, e.g. ``(0, 0)`` for ``d^2/dx^2`` and
``(0, 1)`` for ``d^2/dxdt``; mixed partials commute for smooth nets, so order does not matter.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable

import torch
from torch import Tensor

MultiIndex = tuple[int, ...]
BACKENDS = ("autograd", "zcs", "taylor")


def _grad(y: Tensor, x: Tensor) -> Tensor:
    """``d y / d x`` keeping the graph; zeros when ``y`` does not depend on ``x``."""
    if not y.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(y, x, create_graph=True, allow_unused=True, materialize_grads=True)
    return g


class Derivatives(abc.ABC):
    """Outputs ``u`` (..., k) of ``net`` at points ``x`` (..., d) and cached partial derivatives."""

    def __init__(self, net: Callable[[Tensor], Tensor], x: Tensor):
        if x.ndim < 1:
            raise ValueError(f"points must have shape (N, d); got shape {tuple(x.shape)}")
        self.dim = x.shape[-1]
        self.x, self.u = self._forward(net, x)
        if self.u.ndim < 1:
            raise ValueError(f"the network must return an (N, outputs) tensor; got shape {tuple(self.u.shape)}")
        self._cache: dict[tuple[int, MultiIndex], Tensor] = {}
        self.requested: set[MultiIndex] = set()  # the multi-indices asked for (what a jet would need)

    @abc.abstractmethod
    def _forward(self, net: Callable[[Tensor], Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
        """(the points as used, the outputs)."""

    @abc.abstractmethod
    def _compute(self, output: int, alpha: MultiIndex) -> Tensor:
        """``d^alpha u_output`` for a non-empty multi-index, not yet cached."""

    def __call__(self, output: int, alpha: MultiIndex = ()) -> Tensor:
        """``d^alpha u_output``, shape ``u.shape[:-1]``; ``alpha = ()`` is the output itself."""
        if not alpha:
            return self.u[..., output]
        alpha = tuple(sorted(alpha))
        self.requested.add(alpha)
        key = (output, alpha)
        if key not in self._cache:
            self._cache[key] = self._compute(output, alpha)
        return self._cache[key]

    @staticmethod
    def _parent(alpha: MultiIndex, cached: Callable[[MultiIndex], bool]) -> tuple[MultiIndex, int]:
        """A multi-index one order lower (cached if possible) and the index to differentiate it by."""
        options = [(alpha[:k] + alpha[k + 1:], alpha[k]) for k in range(len(alpha))
                   if k == 0 or alpha[k] != alpha[k - 1]]
        for parent, i in options:
            if cached(parent):
                return parent, i
        return options[-1]


class AutogradDerivatives(Derivatives):
    """Reverse-mode derivatives on the coordinates (see module docstring)."""

    def _forward(self, net, x):
        x = x.detach().requires_grad_(True)
        return x, net(x)

    def _compute(self, output, alpha):
        parent, _ = self._parent(alpha, lambda p: not p or (output, p) in self._cache)
        g = _grad(self(output, parent).sum(), self.x)  # all first partials of the parent, one backward pass
        for i in range(self.dim):  # siblings come for free
            self._cache.setdefault((output, tuple(sorted(parent + (i,)))), g[..., i])
        return self._cache[(output, alpha)]


class ZCSDerivatives(Derivatives):
    """Zero-coordinate-shift derivatives (see module docstring)."""

    def _forward(self, net, x):
        x = x.detach()
        self.z = torch.zeros(x.shape[-1], dtype=x.dtype, device=x.device, requires_grad=True)
        u = net(x + self.z)
        self.a = torch.ones_like(u, requires_grad=True)
        self._omega: dict[MultiIndex, Tensor] = {(): (self.a * u).sum()}
        self._fields: dict[MultiIndex, Tensor] = {}
        return x, u

    def omega(self, alpha: MultiIndex) -> Tensor:
        """The scalar ``d^alpha omega / dz^alpha`` (with graph), cached."""
        if alpha not in self._omega:
            parent, _ = self._parent(alpha, lambda p: p in self._omega)
            g = _grad(self.omega(parent), self.z)  # all d/dz_i of the parent scalar, one backward pass
            for i in range(self.dim):
                self._omega.setdefault(tuple(sorted(parent + (i,))), g[i])
        return self._omega[alpha]

    def field(self, alpha: MultiIndex) -> Tensor:
        """``d^alpha u`` for all outputs at once, shape of ``u``: ``d/da`` of ``omega(alpha)``."""
        if alpha not in self._fields:
            self._fields[alpha] = _grad(self.omega(alpha), self.a)
        return self._fields[alpha]

    def _compute(self, output, alpha):
        return self.field(alpha)[..., output]


def derivatives(net: Callable[[Tensor], Tensor], x: Tensor, backend: str = "autograd",
                alphas: Iterable[MultiIndex] = (), jet: Callable | None = None) -> Derivatives:
    """The derivative engine ``backend`` (one of :data:`BACKENDS`) for ``net`` at points ``x``.

    ``alphas`` and ``jet`` are for ``"taylor"`` only: the multi-indices to propagate and the jet function
    (see :class:`~pinnkit.pde.jet_derivatives.JetDerivatives`).
    """
    if backend == "autograd":
        return AutogradDerivatives(net, x)
    if backend == "zcs":
        return ZCSDerivatives(net, x)
    if backend == "taylor":
        from .jet_derivatives import JetDerivatives

        return JetDerivatives(net, x, alphas, jet)
    raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}")
