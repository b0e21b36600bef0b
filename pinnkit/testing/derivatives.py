r"""The derivative engines against float64 central finite differences: :func:`assert_derivatives_match` and
:func:`finite_difference`.

For a multi-index :math:`\alpha` with :math:`c_i` occurrences of coordinate :math:`i` (order
:math:`m = |\alpha| = \sum_i c_i`), the central difference is the product over the coordinates of the
one-dimensional central difference of order :math:`c_i` with step :math:`h_i`,

.. math::

    D_h^\alpha u(x) = \prod_i h_i^{-c_i} \sum_{j} \prod_i (-1)^{j_i} \binom{c_i}{j_i}\;
                      u\Big(x + \sum_i \big(\tfrac{c_i}{2} - j_i\big) h_i e_i\Big),
    \qquad 0 \le j_i \le c_i,

(:math:`\prod_i (c_i + 1)` evaluations; odd orders use the half-steps :math:`\pm h/2, \pm 3h/2, \dots`). Its
truncation error is :math:`\sum_i \frac{c_i}{24} h_i^2\, \partial^{\alpha + 2 e_i} u + O(h^4)` (second order in
every coordinate), its rounding error about :math:`2^m \varepsilon |u| / h^m` (the absolute coefficients sum to
:math:`2^m`). Balancing the two gives the steps used here, :math:`h_i = \varepsilon^{1/(m+2)} s_i` with
:math:`\varepsilon = 2^{-52}` and :math:`s_i = \text{scale} \cdot \max(1, \max_n |x_{ni}|)`, and an expected
error of order :math:`\varepsilon^{2/(m+2)}` times the size of the derivatives: about :math:`4\cdot 10^{-11}`
for first derivatives, :math:`1.5\cdot 10^{-8}` for second, :math:`6\cdot 10^{-7}` for third and
:math:`6\cdot 10^{-6}` for fourth (the constants in front depend on the function; on smooth networks the
errors seen are a few to about ten times these). The default tolerance is a thousand times the estimate, times
:math:`\max(1, \max|u|)`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from ..checks import check_non_negative_float, check_non_negative_int, check_positive_float
from ..derivatives.multi_index import MultiIndex, normalise
from ..geometry import Geometry
from ._support import Backends, describe_point, float64_net, raise_failures, select_backends

EPS = float(torch.finfo(torch.float64).eps)

#: The default tolerance is this many times the expected error ``eps ** (2 / (m + 2))`` of order ``m``.
SAFETY = 1e3


def fd_step(order: int, scale: float = 1.0) -> float:
    """The central-difference step ``eps ** (1 / (order + 2)) * scale`` for a derivative of total ``order``."""
    return EPS ** (1.0 / (order + 2)) * scale


def expected_error(order: int) -> float:
    """The expected relative error ``eps ** (2 / (order + 2))`` of :func:`finite_difference` at the step
    :func:`fd_step` (truncation and rounding balanced), for derivatives of size about 1."""
    return EPS ** (2.0 / (order + 2))


def finite_difference(net: Callable[[Tensor], Tensor], x: Tensor, alpha: MultiIndex,
                      steps: Sequence[float] | Tensor) -> Tensor:
    r"""The central difference :math:`D_h^\alpha u` (module docstring) of ``net`` at ``x`` (N, d) with the
    steps ``steps`` (d,) per coordinate: (N, k). ``net`` must be pointwise; it is called once, without
    gradients, on all the shifted points together."""
    d = x.shape[1]
    steps = torch.as_tensor(steps, dtype=x.dtype, device=x.device)
    counts = [alpha.count(i) for i in range(d)]
    coords = [i for i in range(d) if counts[i]]
    shifts, weights = [], []
    for picks in itertools.product(*(range(counts[i] + 1) for i in coords)):
        shift, weight = torch.zeros(d, dtype=x.dtype, device=x.device), 1.0
        for i, j in zip(coords, picks, strict=True):
            shift[i] = (counts[i] / 2 - j) * steps[i]
            weight *= (-1) ** j * math.comb(counts[i], j)
        shifts.append(shift)
        weights.append(weight)
    shifted = x[None] + torch.stack(shifts)[:, None, :]  # (S, N, d)
    with torch.no_grad():
        u = net(shifted.reshape(-1, d))
    u = u.reshape(len(shifts), len(x), -1)
    w = torch.tensor(weights, dtype=x.dtype, device=x.device)[:, None, None]
    denominator = math.prod(float(steps[i]) ** counts[i] for i in coords)
    return (w * u).sum(dim=0) / denominator


def _multi_indices(orders, d: int, names: Sequence[str] | None) -> list[MultiIndex]:
    if isinstance(orders, int) and not isinstance(orders, bool):
        top = check_non_negative_int(orders, "orders")
        return [a for m in range(top + 1) for a in itertools.combinations_with_replacement(range(d), m)]
    if not isinstance(orders, (list, tuple)) or not orders:
        raise ValueError(f"orders must be a maximum total order (an int >= 0) or a non-empty list of multi-indices "
                         f"such as [(0, 0), (0, 1)]; got {orders!r}")
    out = []
    for alpha in orders:
        items = (alpha,) if isinstance(alpha, str) else tuple(alpha) if isinstance(alpha, (list, tuple)) else None
        if items is None:
            raise ValueError(f"orders: a multi-index must be a tuple of coordinate indices or names; got {alpha!r}")
        index = []
        for item in items:
            if isinstance(item, str) and names is not None and item in names:
                index.append(list(names).index(item))
            elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item < d:
                index.append(item)
            else:
                known = f"names {tuple(names)} or " if names is not None else ""
                raise ValueError(f"orders: {item!r} in {alpha!r} is not a coordinate ({known}indices 0..{d - 1})")
        out.append(normalise(index))
    return out


def _label(alpha: MultiIndex, names: Sequence[str] | None) -> str:
    if not alpha:
        return "the value (multi-index ())"
    if names is None:
        return f"multi-index {alpha}"
    return " ".join(f"d/d{names[i]}" for i in alpha) + f" (multi-index {alpha})"


def assert_derivatives_match(net: Callable[[Tensor], Tensor] | nn.Module, points: Tensor, *,
                             orders: int | Sequence[Sequence[int | str]] = 2, backends: Backends = None,
                             rtol: float = 0.0, atol: float | None = None, scale: float = 1.0,
                             names: Sequence[str] | Geometry | None = None,
                             outputs: Sequence[str] | None = None) -> dict[str, float]:
    r"""Check every backend's derivatives of ``net`` against float64 central finite differences.

    What is checked: for every backend, every output :math:`j` and every multi-index :math:`\alpha` (all those of
    total order ``0..orders``, or the list given), :math:`|\partial^\alpha u_j - D_h^\alpha u_j| \le
    \text{atol}_m + \text{rtol}\,|D_h^\alpha u_j|` at every point, :math:`D_h^\alpha` the central difference of
    the module docstring (error :math:`O(h^2)`, about :math:`\varepsilon^{2/(m+2)}` at the steps used). The
    default ``atol`` depends on the order :math:`m`: ``1e3 * eps ** (2 / (m + 2)) * max(1, max |u|)`` (``2e-13``
    for the values, ``4e-8``, ``1.5e-5``, ``6e-4``, ``6e-3`` for orders 1 to 4 when ``|u| <= 1``).

    Parameters
    ----------
    net : nn.Module or callable
        Pointwise, points (N, d) -> outputs (N, k); evaluated in float64 (a float64 copy of a module that is not).
    points : Tensor (N, d)
        Where to compare (converted to float64).
    orders : int or list of multi-indices
        Maximum total order, or multi-indices as tuples of coordinate indices or names (``("x", "t")``).
    backends : as for :func:`~pinnkit.testing.assert_residual_vanishes`
        ``None``: every PINN backend that accepts ``net`` (``"taylor"`` needs a jet).
    rtol, atol : float
        Tolerance (see above).
    scale : float
        Length scale of the steps: ``h_i = eps ** (1 / (m + 2)) * scale * max(1, max |x_i|)``.
    names : coordinate names or a Geometry (its ``names``), optional
        For messages and named multi-indices.
    outputs : output names, optional
        For messages.

    Returns dict backend name -> largest ``|difference|`` seen; raises ``AssertionError`` naming the backend, the
    output, the multi-index, the worst point, both values there, the difference, the tolerance and the step.

    Example
    -------
    >>> net = pk.nets.MLP(2, 1, width=16, depth=2).double()
    >>> x = torch.rand(32, 2, dtype=torch.float64)
    >>> assert_derivatives_match(net, x, orders=3, names=("x", "t"))  # autograd, zcs and taylor
    """
    names = names.names if isinstance(names, Geometry) else (None if names is None else tuple(names))
    if not isinstance(points, Tensor) or points.ndim != 2 or not points.is_floating_point():
        shape = tuple(points.shape) if isinstance(points, Tensor) else type(points).__name__
        raise ValueError(f"points must be a floating (N, d) tensor; got {shape}")
    x = points.detach().to(torch.float64)
    if names is not None and len(names) != x.shape[1]:
        raise ValueError(f"names must name the {x.shape[1]} coordinates of the points; got {names!r}")
    rtol = check_non_negative_float(rtol, "rtol")
    atol = None if atol is None else check_non_negative_float(atol, "atol")
    scale = check_positive_float(scale, "scale")
    alphas = _multi_indices(orders, x.shape[1], names)
    model = float64_net(net, "net")
    chosen = select_backends(model, backends, "net")
    with torch.no_grad():
        u = model(x)
    k = u.shape[1]
    labels = tuple(outputs) if outputs is not None else tuple(f"{j}" for j in range(k))
    size = max(1.0, float(u.abs().max()))
    step_scale = scale * torch.clamp(x.abs().amax(dim=0), min=1.0)
    reference = {a: finite_difference(model, x, a, fd_step(len(a)) * step_scale) if a else u for a in alphas}
    report: dict[str, float] = {}
    failures: list[str] = []
    for backend in chosen:
        engine = backend.engine(model, x, [a for a in alphas if a])
        report[backend.name] = 0.0
        for alpha in alphas:
            bound = atol if atol is not None else SAFETY * expected_error(len(alpha)) * size
            for j in range(k):
                got = engine(j, alpha).detach().expand(len(x))
                want = reference[alpha][:, j]
                diff = (got - want).abs().nan_to_num(nan=float("inf"))
                excess = diff - (bound + rtol * want.abs())
                report[backend.name] = max(report[backend.name], float(diff.max()))
                if float(excess.max()) > 0:
                    n = int(excess.argmax())
                    h = ", ".join(f"{v:.2g}" for v in (fd_step(len(alpha)) * step_scale).tolist())
                    failures.append(
                        f"backend {backend.name!r}, output {labels[j]!r}, {_label(alpha, names)}: worst at "
                        f"{describe_point(x[n], names)}: engine {float(got[n]):.9e}, finite differences "
                        f"{float(want[n]):.9e}, |difference| {float(diff[n]):.3e} > tolerance "
                        f"{bound + rtol * float(want[n].abs()):.3e} (FD steps h = {h}, error O(h^2) ~ "
                        f"{expected_error(len(alpha)):.1e}); {int((excess > 0).sum())} of {len(x)} points fail")
    raise_failures(failures, len(chosen) * len(alphas) * k, "derivative checks")
    return report
