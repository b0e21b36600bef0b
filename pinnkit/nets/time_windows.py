"""Networks for time-marching: one network per time window, each in its window's local time."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ..checks import check_finite_float
from ..derivatives.jet_algebra import scaled_jet
from ..derivatives.multi_index import MultiIndex
from ..derivatives.protocol import Compiled, Jet, check_jet, traceable_jet
from .registry import net_spec, register_net


@register_net(nested=("net",))
class LocalTime(nn.Module):
    """``net`` evaluated in window-local time: ``u(x, t) = net(x, t0 + (t - a) (t1 - t0) / (b - a))``.

    Maps the window ``[a, b]`` affinely onto the span ``[t0, t1]`` the network was built for (its input
    scaling, its initialisation), so every time window of a time-marching run uses the network's whole time
    range. Time is the last input column; derivatives with respect to ``t`` follow by the chain rule.
    """

    def __init__(self, net: nn.Module, window: Sequence[float], span: Sequence[float]):
        super().__init__()
        (a, b), (t0, t1) = ([check_finite_float(v, name) for v in pair] for pair, name in ((window, "window"),
                                                                                           (span, "span")))
        if not (b > a and t1 > t0):
            raise ValueError(f"window and span must be increasing pairs (start, end); got {window}, {span}")
        self.net, self.window, self.span = net, (a, b), (t0, t1)
        self.scale = (t1 - t0) / (b - a)

    def forward(self, x: Tensor) -> Tensor:
        t = self.span[0] + (x[..., -1:] - self.window[0]) * self.scale
        return self.net(torch.cat([x[..., :-1], t], dim=-1))

    def check_jet(self, where: str = "net") -> None:
        """Taylor mode needs the wrapped net to have a jet (:func:`~pinnkit.derivatives.protocol.check_jet`)."""
        check_jet(self.net, f"{where}.net")

    @property
    def jet_traceable(self) -> bool:
        """Whether the jet is forward arithmetic only: as the wrapped net's."""
        return traceable_jet(self.net)

    def jet(self, x: Tensor, multi_indices: Sequence[MultiIndex], compiled: Compiled | None = None) -> Jet:
        r"""The jet at points ``x`` (N, inputs): the wrapped net's jet at the mapped points, each derivative times
        :math:`s^{\beta_t}` (``s`` the time scale, :math:`\beta_t` the number of time indices: the chain rule)."""
        t = self.span[0] + (x[..., -1:] - self.window[0]) * self.scale
        inner = self.net.jet(torch.cat([x[..., :-1], t], dim=-1), multi_indices, compiled)
        return scaled_jet(inner, [1.0] * (x.shape[-1] - 1) + [self.scale])

    @property
    def config(self) -> dict:
        return {"net": net_spec(self.net), "window": list(self.window), "span": list(self.span)}


@register_net(nested_lists=("nets",))
class TimeWindows(nn.Module):
    """``u(x, t) = net_k(x, t)`` for ``t`` in window ``k = [edges[k], edges[k+1])`` (the last window closed).

    ``nets`` are ``K`` networks with the same inputs and outputs; ``edges`` (K + 1,) increase. Time is the last
    input column. Times before ``edges[0]`` use the first window and after ``edges[-1]`` the last.
    """

    def __init__(self, nets: Sequence[nn.Module], edges: Sequence[float]):
        super().__init__()
        nets, edges = list(nets), [check_finite_float(e, "edges") for e in edges]
        if not nets or not all(isinstance(n, nn.Module) for n in nets):
            raise ValueError("nets must be a non-empty sequence of torch.nn.Module")
        if len(edges) != len(nets) + 1 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"edges must be {len(nets) + 1} increasing times for {len(nets)} nets; got {edges}")
        self.nets = nn.ModuleList(nets)
        self.edges = edges

    def window(self, t: Tensor) -> Tensor:
        """The window index of each time ``t`` (N,)."""
        inner = torch.as_tensor(self.edges[1:-1], dtype=t.dtype, device=t.device)
        return torch.bucketize(t.contiguous(), inner, right=True)

    def forward(self, x: Tensor) -> Tensor:
        if len(self.nets) == 1:
            return self.nets[0](x)
        index = self.window(x[..., -1])
        out = None
        for k, net in enumerate(self.nets):
            mask = index == k
            if bool(mask.any()):
                y = net(x[mask])
                out = y.new_zeros(*x.shape[:-1], y.shape[-1]) if out is None else out
                out[mask] = y
        return out if out is not None else self.nets[0](x)  # no points at all

    @property
    def config(self) -> dict:
        """The windows' edges and each window's net spec (see :mod:`pinnkit.nets.registry`)."""
        return {"nets": [net_spec(net) for net in self.nets], "edges": list(self.edges)}
