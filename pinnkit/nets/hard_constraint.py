r"""Hard constraints: a network transformed so that it satisfies boundary / initial conditions exactly.

.. math:: u(x) = g(x) + d(x)\, N(x)

with :math:`N` the network, :math:`g` a particular function satisfying the conditions and :math:`d` a distance
function vanishing exactly where they are imposed: wherever :math:`d(x) = 0`, :math:`u(x) = g(x)` exactly, for
every weight of :math:`N`. Each output may have its own :math:`g_j` and :math:`d_j` (a
:class:`~pinnkit.nets.PerOutput`, or a list given to :class:`HardConstraint`).

Taylor mode (:mod:`pinnkit.derivatives.protocol`): :meth:`HardConstraint.jet` takes the jet of :math:`N` from the
wrapped net's own jet and those of :math:`g` and :math:`d`, functions of the coordinates alone, by reverse mode on
the points (cheap: no parameters inside), and forms the product by the Leibniz rule

.. math:: \partial^\beta (d\,N) = \sum_{\gamma \le \beta} \binom{\beta}{\gamma}\,
          \partial^\gamma d\; \partial^{\beta - \gamma} N, \qquad
          \binom{\beta}{\gamma} = \prod_i \binom{\beta_i}{\gamma_i}

(:math:`\beta_i` the number of times coordinate ``i`` occurs in the multi-index), per output column.

Directional jets (the STDE primitive, :mod:`pinnkit.derivatives.stochastic`): :meth:`HardConstraint.directional_jet`
takes :math:`\partial_t^j N(x + tv)` from the wrapped net (its own directional jet, else nested forward mode),
those of ``g`` and ``d`` by nested forward mode, and combines them by the one-variable Leibniz rule
:math:`\partial_t^k (dN) = \sum_{j \le k} \binom{k}{j} \partial_t^j d\, \partial_t^{k-j} N`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from ..derivatives.jet_algebra import coordinate_jet, product_jet
from ..derivatives.multi_index import MultiIndex, jet_closure
from ..derivatives.protocol import Compiled, Jet, check_jet
from ..derivatives.stochastic import directional_derivatives, supports_directional_jet
from .per_output import PerOutput
from .registry import net_spec, register_net


@register_net(nested=("net", "particular", "distance"))
class HardConstraint(nn.Module):
    r"""``u(x) = g(x) + d(x) * net(x)``: imposes ``u = g`` exactly where ``d = 0``.

    .. math:: u(x) = g(x) + d(x)\, N(x), \qquad
              \nabla u = \nabla g + N \nabla d + d\, \nabla N,

    so on :math:`\{d = 0\}`, :math:`u = g` exactly (Dirichlet conditions, initial values) and the loss only has
    to fit the PDE. The derivatives are ordinary autograd derivatives of this expression.

    Arguments
    ---------
    net: the network ``N``, ``(..., inputs) -> (..., outputs)``; its parameters are this module's parameters.
    particular: ``g``, a callable ``x -> (..., outputs)`` or ``(...,)`` (then the same for every output), or a
        number (a constant, e.g. ``0.0`` for homogeneous conditions), or a list with one callable or number per
        output (made a :class:`~pinnkit.nets.PerOutput`).
    distance: ``d``, a callable ``x -> (...,)``, ``(..., 1)`` or ``(..., outputs)`` (one distance per output; a
        list with one callable or number per output is made a :class:`~pinnkit.nets.PerOutput`: ``1.0`` leaves
        that output free), zero where the conditions hold and nonzero
        elsewhere in the domain: a geometry's ``approx_distance`` (zero on its boundary), or
        ``lambda x: x[:, 1:2]`` for an initial condition at ``t = 0`` in coordinates ``(x, t)``, or a product of
        such factors. Smooth ``d`` keeps ``u`` smooth.

    ``particular`` and ``distance`` are kept as given; an ``nn.Module`` among them becomes a submodule (its
    parameters are then trained with the network). Given as :class:`~pinnkit.nets.Expression` formulas (and
    ``net`` one of pinnkit's nets), the constraint has a ``config`` and checkpoints rebuild it by themselves:
    ``HardConstraint(MLP(...), Expression("-sin(pi*x)", ("x", "t")), Expression("t*(1 - x**2)", ("x", "t")))``.
    With Python callables it has none: pass ``net=`` to :func:`pinnkit.load`.

    Example: Burgers' equation on :math:`x \in [-1, 1]`, :math:`t \in [0, 1]` with :math:`u(x, 0) = -\sin(\pi x)`
    and :math:`u(\pm 1, t) = 0`: :math:`g = -\sin(\pi x)` (it vanishes at :math:`x = \pm 1`) and
    :math:`d = t (1 - x^2)`:

    >>> import math, torch
    >>> from pinnkit.nets import MLP, HardConstraint
    >>> g = lambda xt: -torch.sin(math.pi * xt[:, 0])
    >>> d = lambda xt: xt[:, 1] * (1 - xt[:, 0] ** 2)
    >>> u = HardConstraint(MLP(2, 1, input_bounds=[[-1.0, 0.0], [1.0, 1.0]]), g, d)
    >>> xt = torch.tensor([[0.5, 0.0], [-0.3, 0.0], [1.0, 0.7], [-1.0, 0.2], [0.1, 0.5]])
    >>> out = u(xt)
    >>> out.shape
    torch.Size([5, 1])
    >>> torch.equal(out[:4, 0], g(xt[:4]))  # exact at t = 0 and at x = -1, 1
    True
    """

    def __init__(self, net: nn.Module, particular: Callable[[Tensor], Tensor] | float | Sequence,
                 distance: Callable[[Tensor], Tensor] | Sequence):
        super().__init__()
        if not isinstance(net, nn.Module):
            raise ValueError(f"net must be an nn.Module; got {type(net).__name__}")
        if isinstance(particular, (list, tuple)):
            particular = PerOutput(particular)
        if isinstance(distance, (list, tuple)):
            distance = PerOutput(distance)
        if not callable(particular) and (isinstance(particular, bool) or not isinstance(particular, numbers.Real)):
            raise ValueError(f"particular must be a callable x -> g(x) or a real number; got {particular!r}")
        if not callable(distance):
            raise ValueError(f"distance must be a callable x -> d(x); got {distance!r}")
        self.net = net
        self.particular = particular
        self.distance = distance

    @property
    def config(self) -> dict:
        """``{"net", "particular", "distance"}`` as nested specs (a number stays a number); a ``ValueError`` if
        ``particular`` or ``distance`` is a Python callable rather than an :class:`~pinnkit.nets.Expression`."""
        def spec(part, name: str):
            if isinstance(part, numbers.Real):
                return float(part)
            if not isinstance(part, nn.Module):
                raise ValueError(f"HardConstraint.config: {name} is a Python callable, which a checkpoint cannot "
                                 f"hold; give it as a pinnkit.nets.Expression, or pass net= to pinnkit.load")
            return net_spec(part)

        return {"net": net_spec(self.net), "particular": spec(self.particular, "particular"),
                "distance": spec(self.distance, "distance")}

    @property
    def inputs(self) -> int | None:
        """The network's ``inputs`` (``None`` if it has none)."""
        return getattr(self.net, "inputs", None)

    @property
    def outputs(self) -> int | None:
        """The network's ``outputs`` (``None`` if it has none)."""
        return getattr(self.net, "outputs", None)

    def forward(self, x: Tensor) -> Tensor:
        """``(..., inputs) -> (..., outputs)``: ``g(x) + d(x) * net(x)``."""
        n = self.net(x)
        batch = tuple(x.shape[:-1])
        if n.ndim == 0 or tuple(n.shape[:-1]) != batch:
            raise ValueError(f"net(x) must have shape {batch + ('outputs',)} for x of shape {tuple(x.shape)}; "
                             f"got shape {tuple(n.shape)}")
        return self.particular_values(x, n.shape[-1]) + self.distance_values(x, n.shape[-1]) * n

    def distance_values(self, x: Tensor, outputs: int | None = None) -> Tensor:
        """``d(x)`` as ``(..., 1)`` or ``(..., outputs)``."""
        widths = (1,) if outputs is None else (1, outputs)
        return self._column(self.distance(x), tuple(x.shape[:-1]), widths, "distance")

    def particular_values(self, x: Tensor, outputs: int) -> Tensor | float:
        """``g(x)`` as ``(..., 1)`` or ``(..., outputs)``; a number stays a number."""
        if not callable(self.particular):
            return self.particular
        return self._column(self.particular(x), tuple(x.shape[:-1]), (1, outputs), "particular")

    def check_jet(self, where: str = "net") -> None:
        """Taylor mode needs the wrapped net to have a jet (:func:`~pinnkit.derivatives.protocol.check_jet`)."""
        check_jet(self.net, f"{where}.net")

    #: Its jet takes ``g``'s and ``d``'s derivatives by reverse mode, which a compiled graph cannot have inside.
    jet_traceable = False

    def jet(self, x: Tensor, multi_indices: Sequence[MultiIndex], compiled: Compiled | None = None) -> Jet:
        """The jet of ``g + d * N`` at points ``x`` (N, inputs) over the closure of ``multi_indices`` (module
        docstring): ``N``'s from the wrapped net (``compiled`` passed on), ``g``'s and ``d``'s by reverse mode."""
        closed = jet_closure(multi_indices)
        inner = self.net.jet(x, closed, compiled)
        outputs = inner[()].shape[-1]
        d = coordinate_jet(lambda p: self.distance_values(p, outputs), x, closed, _trainable(self.distance))
        if callable(self.particular):
            g = coordinate_jet(lambda p: self.particular_values(p, outputs), x, closed, _trainable(self.particular))
        else:
            g = {beta: None for beta in closed}
            g[()] = torch.full((1,), float(self.particular), dtype=x.dtype, device=x.device)
        return product_jet(d, inner, closed, plus=g)

    def directional_jet(self, x: Tensor, v: Tensor, order: int) -> list[Tensor]:
        """``[u, D_1, ..., D_order]`` of ``t -> g + d N`` at ``x + t v`` (module docstring): points ``x`` (N, d),
        directions ``v`` (K, d) or (N, K, d); ``u`` (N, 1, outputs), ``D_k`` (N, K, outputs)."""
        inner = directional_derivatives(self.net, x, v, order)
        outputs = inner[0].shape[-1]
        d = self._part_jet(self.distance, lambda p: self.distance_values(p, outputs), x, v, order)
        out = []
        for k in range(order + 1):
            total = None
            for j in range(k + 1):
                term = d[j] * inner[k - j] * math.comb(k, j)
                total = term if total is None else total + term
            out.append(total)
        if callable(self.particular):
            g = self._part_jet(self.particular, lambda p: self.particular_values(p, outputs), x, v, order)
            out = [a + b for a, b in zip(out, g, strict=True)]
        else:
            out[0] = out[0] + float(self.particular)
        return out

    @staticmethod
    def _part_jet(part, values: Callable[[Tensor], Tensor], x: Tensor, v: Tensor, order: int) -> list[Tensor]:
        """Directional derivatives of ``g`` or ``d``: its own ``directional_jet`` if it has one (entries (N, 1),
        (N, K) or with a trailing column axis), else nested forward mode through ``values`` (the column form)."""
        if not supports_directional_jet(part):
            return directional_derivatives(values, x, v, order)
        return [t if t.ndim == 3 else t.unsqueeze(-1) for t in part.directional_jet(x, v, order)]

    @staticmethod
    def _column(value, batch: tuple, widths: tuple, name: str) -> Tensor:
        """``value`` of shape ``batch`` or ``batch + (w,)`` (w in ``widths``) as ``batch + (w,)``."""
        if not isinstance(value, Tensor):
            raise ValueError(f"{name}(x) must return a tensor; got {type(value).__name__}")
        shape = tuple(value.shape)
        if shape == batch:
            return value.unsqueeze(-1)
        if shape[:-1] == batch and len(shape) == len(batch) + 1 and shape[-1] in widths:
            return value
        allowed = " or ".join(str(batch + (w,)) for w in widths)
        raise ValueError(f"{name}(x) must have shape {batch} or {allowed} for x with leading shape {batch}; "
                         f"got shape {shape}")


def _trainable(part) -> bool:
    return isinstance(part, nn.Module) and any(p.requires_grad for p in part.parameters())
