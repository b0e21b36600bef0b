r"""Stochastic Taylor derivative estimators (STDE): unbiased random-jet estimates of linear differential operators.

Shi, Hu, Lin and Kawaguchi, *Stochastic Taylor Derivative Estimator: Efficient amortization for arbitrary
differential operators*, NeurIPS 2024 (arXiv:2412.00088). The primitive is the directional jet: for a direction
:math:`v \in \mathbb{R}^d` the derivatives of :math:`g(t) = u(x + t v)` at :math:`t = 0`,

.. math:: g'(0) = \nabla u \cdot v, \qquad g''(0) = v^\top \nabla^2 u\, v, \qquad
          g^{(4)}(0) = \textstyle\sum_{ijkl} \partial_{ijkl} u\, v_i v_j v_k v_l,

all from one forward Taylor-mode pass (:func:`directional_derivatives`), at a cost that does not grow with the
number of terms of the operator. A contraction of the derivative tensor with random directions whose moments match
the operator's coefficient tensor is then an unbiased estimate of the operator:

* **Laplacian** (Hutchinson's trace estimator, Hutchinson 1990): for :math:`E[v v^\top] = I`,
  :math:`E[v^\top H v] = \operatorname{tr}(H\,E[vv^\top]) = \Delta u`. With K directions,
  :math:`\widehat{\Delta u} = \frac1K \sum_k v_k^\top H v_k` (:func:`laplacian_estimate`). Its variance is
  :math:`\frac{2}{K}\sum_{i \ne j} H_{ij}^2` for Rademacher :math:`v` (entries :math:`\pm 1`; exact when ``H`` is
  diagonal) and :math:`\frac{2}{K}\|H\|_F^2` for Gaussian :math:`v \sim N(0, I)`.
* **Second-order operator** :math:`\sum_{ij} A_{ij} \partial_{ij} u = \operatorname{tr}(A H)` for a constant
  symmetric ``A``: with a factor :math:`A = L L^\top` (``L`` (d, r), or a diagonal ``L`` given as a (d,) vector)
  and :math:`v = L z`, :math:`E[z z^\top] = I_r`, :math:`E[v^\top H v] = \operatorname{tr}(L^\top H L) =
  \operatorname{tr}(A H)` (:func:`second_order_estimate`); an indefinite ``A`` is split as
  :math:`L_+ L_+^\top - L_- L_-^\top` (:class:`~pinnkit.derivatives.operators.SecondOrder`).
* **Biharmonic** :math:`\Delta^2 u = \sum_{ij} \partial_{iijj} u` (the paper's fourth-order example): for
  :math:`v \sim N(0, I)`, :math:`E[v_i v_j v_k v_l] = \delta_{ij}\delta_{kl} + \delta_{ik}\delta_{jl} +
  \delta_{il}\delta_{jk}` (Isserlis), so :math:`E[g^{(4)}(0)] = 3 \Delta^2 u` and
  :math:`\widehat{\Delta^2 u} = \frac{1}{3K}\sum_k \partial^4_{v_k} u` (:func:`biharmonic_estimate`; Rademacher
  directions would be biased, :math:`E = 3\Delta^2 u - 2\sum_i \partial_i^4 u`, and are refused).

The exact operators by jets, for comparison: :func:`laplacian_exact` (the d axes, :math:`\sum_i \partial^2_{e_i}
u`), :func:`second_order_exact` (the r columns of ``L``) and :func:`biharmonic_exact` (by polarisation over the
:math:`d(d-1)` directions :math:`e_i \pm e_j` and the d axes, see its docstring).

Directions are (K, d), shared by every point of the batch (the default: the first layer's derivative is then
point-independent and sampling costs O(K d)), or (N, K, d), independent per point (``per_point=True``); either way
the estimate at every point is unbiased. Everything is batched over points and directions: no Python loop over d.

The directional-jet protocol: a network that provides ``directional_jet(x, v, order) -> [u, D_1, ..., D_order]``
(``u`` (N, 1, k), ``D_j`` (N, K, k)), as :class:`~pinnkit.nets.MLP` does, is pushed forward in Taylor mode; any other
pointwise network through nested forward-mode AD (:func:`torch.func.jvp`, ``order`` nested passes per order).
Gradients in the network's parameters flow through both by the usual backward pass.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..checks import check_choice, check_positive_int

#: The distributions of the random directions: both have :math:`E[v v^\top] = I`.
DISTRIBUTIONS = ("rademacher", "gaussian")

Net = Callable[[Tensor], Tensor]


def supports_directional_jet(net: object) -> bool:
    """Whether ``net`` provides ``directional_jet(x, v, order)`` (the module docstring's protocol)."""
    return callable(getattr(net, "directional_jet", None))


def _nested_jvp(net: Net, x: Tensor, v: Tensor, order: int) -> Tensor:
    """:math:`\\partial_t^{order} net(x + t v)` at 0 by ``order`` nested forward-mode passes; ``x, v`` (M, d)."""
    def derivative(function: Net) -> Net:
        return lambda y: torch.func.jvp(function, (y,), (v,))[1]

    function = net
    for _ in range(order):
        function = derivative(function)
    return function(x)


def directional_derivatives(net: Net, x: Tensor, v: Tensor, order: int) -> list[Tensor]:
    r"""``[u, D_1, …, D_order]`` with :math:`D_j = \partial_t^j u(x + t v)|_{t=0}`.

    ``x``: points (N, d); ``v``: directions (K, d) shared by the points or (N, K, d); ``u`` (N, 1, k) and every
    ``D_j`` (N, K, k). A network with a directional jet (module docstring) is used through it, any other pointwise
    network through nested :func:`torch.func.jvp` on the N K (point, direction) pairs.
    """
    order = check_positive_int(order, "order")
    if v.ndim not in (2, 3) or v.shape[-1] != x.shape[-1] or (v.ndim == 3 and v.shape[0] != x.shape[0]):
        raise ValueError(f"directions must have shape (K, d) or (N, K, d) for points {tuple(x.shape)}; got "
                         f"{tuple(v.shape)}")
    v = v.to(x)
    if supports_directional_jet(net):
        return list(net.directional_jet(x, v, order))
    n, d = x.shape
    k = v.shape[-2]
    vv = v.expand(n, k, d).reshape(n * k, d)
    xx = x[:, None, :].expand(n, k, d).reshape(n * k, d)
    u = net(x)[:, None, :]
    return [u] + [_nested_jvp(net, xx, vv, j).reshape(n, k, -1) for j in range(1, order + 1)]


def sample_directions(shape: tuple[int, ...], distribution: str = "rademacher",
                      generator: torch.Generator | None = None, dtype: torch.dtype | None = None,
                      device: torch.device | str | None = None) -> Tensor:
    """Random directions of ``shape`` (..., d) with i.i.d. entries of mean 0 and variance 1: ``"rademacher"``
    (:math:`\\pm 1`, equally likely) or ``"gaussian"`` (standard normal). Drawn from ``generator`` (on its device,
    then moved to ``device``), or from torch's global generator if ``None``."""
    distribution = check_choice(distribution, "distribution", DISTRIBUTIONS)
    where = generator.device if generator is not None else device
    if distribution == "gaussian":
        z = torch.randn(shape, generator=generator, dtype=dtype, device=where)
    else:
        z = torch.randint(0, 2, shape, generator=generator, device=where).to(dtype or torch.get_default_dtype())
        z = 2 * z - 1
    return z.to(device) if device is not None else z


def _directions(x: Tensor, columns: int, directions: int, distribution: str, generator: torch.Generator | None,
                per_point: bool) -> Tensor:
    """Random ``z`` of shape (K, columns) or (N, K, columns), in ``x``'s dtype and device."""
    directions = check_positive_int(directions, "directions")
    shape = (x.shape[0], directions, columns) if per_point else (directions, columns)
    return sample_directions(shape, distribution, generator, x.dtype, x.device)


def _summed(net: Net, x: Tensor, v: Tensor, order: int, chunk: int | None) -> Tensor:
    """:math:`\\sum_k D_{order}(v_k)` over shared directions ``v`` (K, d), ``chunk`` directions per jet pass."""
    step = v.shape[0] if chunk is None else check_positive_int(chunk, "chunk")
    total = None
    for part in v.split(step):
        s = directional_derivatives(net, x, part, order)[order].sum(1)
        total = s if total is None else total + s
    return total


def _factored(z: Tensor, factor: Tensor) -> Tensor:
    """``v = L z``: ``factor`` (d,) is a diagonal ``L`` (then ``z`` (..., d)), (d, r) a matrix (``z`` (..., r))."""
    return z * factor if factor.ndim == 1 else z @ factor.T


def laplacian_estimate(net: Net, x: Tensor, directions: int = 16, distribution: str = "rademacher",
                       generator: torch.Generator | None = None, per_point: bool = False) -> Tensor:
    r"""Hutchinson/STDE estimate of :math:`\Delta u` (N, k) at ``x`` (N, d): :math:`\frac1K\sum_k v_k^\top
    \nabla^2 u\, v_k` with K = ``directions`` random ``v_k`` of ``distribution`` (module docstring: unbiased, variance
    :math:`\propto 1/K`)."""
    z = _directions(x, x.shape[-1], directions, distribution, generator, per_point)
    return directional_derivatives(net, x, z, 2)[2].mean(-2)


def laplacian_exact(net: Net, x: Tensor, chunk: int | None = None) -> Tensor:
    r""":math:`\Delta u = \sum_i \partial^2_{e_i} u` (N, k) at ``x`` (N, d) by d directional jets along the axes
    (``chunk`` axes per pass bounds the memory, (N, chunk, width) per layer)."""
    eye = torch.eye(x.shape[-1], dtype=x.dtype, device=x.device)
    return _summed(net, x, eye, 2, chunk)


def second_order_estimate(net: Net, x: Tensor, factor: Tensor, directions: int = 16,
                          distribution: str = "rademacher", generator: torch.Generator | None = None,
                          per_point: bool = False) -> Tensor:
    r"""Estimate of :math:`\operatorname{tr}(L L^\top \nabla^2 u) = \sum_{ij} (LL^\top)_{ij}\partial_{ij} u` (N, k):
    :math:`\frac1K \sum_k (L z_k)^\top \nabla^2 u\, (L z_k)`, ``z_k`` i.i.d. of ``distribution``; ``factor`` is ``L``
    (d, r), or (d,) for a diagonal ``L`` (module docstring)."""
    factor = factor.to(x)
    z = _directions(x, factor.shape[-1] if factor.ndim == 2 else factor.shape[0], directions, distribution,
                    generator, per_point)
    return directional_derivatives(net, x, _factored(z, factor), 2)[2].mean(-2)


def second_order_exact(net: Net, x: Tensor, factor: Tensor, chunk: int | None = None) -> Tensor:
    r""":math:`\operatorname{tr}(L^\top \nabla^2 u\, L) = \sum_j l_j^\top \nabla^2 u\, l_j` (N, k) over the columns
    :math:`l_j` of ``factor`` (d, r), or of ``diag(factor)`` for a (d,) ``factor``."""
    factor = factor.to(x)
    columns = factor.T if factor.ndim == 2 else torch.diag(factor)
    return _summed(net, x, columns, 2, chunk)


def biharmonic_estimate(net: Net, x: Tensor, directions: int = 16, distribution: str = "gaussian",
                        generator: torch.Generator | None = None, per_point: bool = False) -> Tensor:
    r"""STDE estimate of :math:`\Delta^2 u` (N, k): :math:`\frac{1}{3K}\sum_k \partial^4_{v_k} u` with Gaussian
    :math:`v_k` (module docstring); ``distribution`` must be ``"gaussian"`` (Rademacher is biased)."""
    if check_choice(distribution, "distribution", DISTRIBUTIONS) != "gaussian":
        raise ValueError("the biharmonic estimate needs distribution='gaussian': with Rademacher directions "
                         "E[d^4_v u] = 3 biharmonic - 2 sum_i d_i^4 u is biased")
    z = _directions(x, x.shape[-1], directions, distribution, generator, per_point)
    return directional_derivatives(net, x, z, 4)[4].mean(-2) / 3


def biharmonic_exact(net: Net, x: Tensor, chunk: int | None = None) -> Tensor:
    r""":math:`\Delta^2 u = \sum_i \partial_i^4 u + 2\sum_{i<j}\partial_i^2\partial_j^2 u` (N, k) by jets, through
    polarisation: :math:`\partial^4_{e_i+e_j} + \partial^4_{e_i-e_j} = 2\partial_i^4 + 2\partial_j^4 +
    12\,\partial_i^2\partial_j^2`, so with :math:`S = \sum_{i<j}(\partial^4_{e_i+e_j} + \partial^4_{e_i-e_j})` and
    :math:`P = \sum_i \partial^4_{e_i}`, :math:`\Delta^2 u = S/6 + (1 - (d-1)/3) P`. Uses :math:`d^2` directions:
    small d only."""
    d = x.shape[-1]
    eye = torch.eye(d, dtype=x.dtype, device=x.device)
    pure = _summed(net, x, eye, 4, chunk)
    if d == 1:
        return pure
    i, j = torch.triu_indices(d, d, 1, device=x.device)
    pairs = torch.cat([eye[i] + eye[j], eye[i] - eye[j]])
    return _summed(net, x, pairs, 4, chunk) / 6 + (1 - (d - 1) / 3) * pure
