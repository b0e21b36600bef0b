"""Input embeddings: random Fourier features (:class:`FourierFeatures`) and exactly periodic coordinates
(:class:`PeriodicEmbedding`).

Both are parameter-free ``nn.Module``s with ``inputs`` and ``outputs`` attributes. Put one in front of a network
with ``nn.Sequential(embedding, MLP(embedding.outputs, ...))`` or, with input scaling first, as
``MLP(..., embedding=embedding)``.

Both reduce their phases to one period before taking ``cos`` / ``sin`` (an exact floating-point operation), so
that a shift by a period changes the output only through rounding: of the shifted input itself and, for Fourier
features, of the projection ``x B^T``. Where the shift and the projection are exact (e.g. dyadic points) the
outputs are bitwise equal; in float32 the difference is otherwise of order ``2 pi |x B^T| eps``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping

import torch
from torch import Tensor, nn

from ..checks import check_positive_float, check_positive_int, check_seed
from .mlp import check_points
from .registry import register_net


@register_net
class FourierFeatures(nn.Module):
    r"""Random Fourier features (Tancik et al. 2020, "Fourier features let networks learn high frequency
    functions in low dimensional domains"):

    .. math:: \gamma(x) = \big[\cos(2\pi\, x B^\top),\ \sin(2\pi\, x B^\top)\big], \qquad
              B \in \mathbb{R}^{\text{features} \times \text{inputs}},\ B_{ij} \sim \mathcal N(0, \text{scale}^2).

    ``B`` is drawn once, at construction, and kept fixed: a buffer ``frequencies`` (in the state dict, not a
    parameter). ``seed`` (a non-negative int) makes it reproducible (drawn in float64 from its own generator,
    then cast to torch's default dtype); ``seed=None`` draws from torch's global RNG. Larger ``scale`` lets the
    network fit higher frequencies (typical values 1 to 10 for inputs in ``[-1, 1]``).

    Input ``(..., inputs)``, output ``(..., 2 * features)`` (all cosines, then all sines); ``outputs`` is
    ``2 * features``. The phases ``x B^T`` are reduced modulo 1 exactly before the trigonometric functions, so
    ``gamma`` is invariant, up to the rounding of ``x + delta`` and of ``(x + delta) B^T``, under shifts
    ``delta`` with integer ``delta B^T``.
    """

    def __init__(self, inputs: int, features: int, scale: float = 1.0, seed: int | None = None):
        super().__init__()
        self.inputs = check_positive_int(inputs, "inputs")
        self.features = check_positive_int(features, "features")
        self.scale = check_positive_float(scale, "scale")
        self.seed = check_seed(seed, allow_none=True)
        self.outputs = 2 * self.features
        generator = None if self.seed is None else torch.Generator().manual_seed(self.seed)
        b = torch.randn(self.features, self.inputs, generator=generator, dtype=torch.float64) * self.scale
        self.register_buffer("frequencies", b.to(torch.get_default_dtype()))

    def forward(self, x: Tensor) -> Tensor:
        """``(..., inputs) -> (..., 2 * features)``."""
        check_points(x, self.inputs)
        p = x @ self.frequencies.T
        phase = (2 * math.pi) * (p - torch.round(p))  # p - round(p) is exact
        return torch.cat([torch.cos(phase), torch.sin(phase)], dim=-1)

    def extra_repr(self) -> str:
        return f"inputs={self.inputs}, features={self.features}, scale={self.scale}, seed={self.seed}"

    @property
    def config(self) -> dict:
        """Constructor arguments (JSON-serialisable). With ``seed=None`` the rebuilt ``B`` differs until the
        state dict is loaded."""
        return {"inputs": self.inputs, "features": self.features, "scale": self.scale, "seed": self.seed}


def _check_periods(periods, inputs: int) -> dict[int, float]:
    """``periods`` (a mapping ``index -> period`` or an iterable of ``(index, period)`` pairs) as a dict sorted by
    index, with indices in ``[0, inputs)``, no repeats, and positive finite periods."""
    if isinstance(periods, Mapping):
        items = list(periods.items())
    elif isinstance(periods, Iterable) and not isinstance(periods, str | bytes):
        items = list(periods)
    else:
        raise ValueError(f"periods must be a dict {{coordinate index: period}}; got {periods!r}")
    if not items:
        raise ValueError("periods must name at least one coordinate; got none")
    out: dict[int, float] = {}
    for item in items:
        pair = tuple(item) if isinstance(item, Iterable) and not isinstance(item, str | bytes) else ()
        if len(pair) != 2:
            raise ValueError(f"periods must map coordinate indices to periods; got the entry {item!r}")
        index, period = pair
        try:
            i = operator.index(index)
        except TypeError:
            i = None
        if i is None or isinstance(index, bool) or not 0 <= i < inputs:
            raise ValueError(f"periods: coordinate index must be an integer in [0, {inputs}) (inputs = {inputs}); "
                             f"got {index!r}")
        if i in out:
            raise ValueError(f"periods: coordinate {i} is given twice")
        out[int(i)] = check_positive_float(period, f"periods: the period of coordinate {i}")
    return dict(sorted(out.items()))


@register_net
class PeriodicEmbedding(nn.Module):
    r"""Exactly periodic coordinates: each listed coordinate :math:`x_i` with period :math:`P_i` becomes the pair

    .. math:: \big(\cos(2\pi x_i / P_i),\ \sin(2\pi x_i / P_i)\big),

    in its place; the other coordinates pass through unchanged. A network of the embedded coordinates is then
    periodic in :math:`x_i` with period :math:`P_i`, with all its derivatives (periodic boundary conditions
    imposed exactly; Dong & Ni 2021).

    ``periods``: ``{coordinate index: period}`` (or ``(index, period)`` pairs). E.g. for coordinates ``(x, t)``
    with ``x`` periodic on ``[-1, 1]``: ``PeriodicEmbedding(2, {0: 2.0})`` maps ``(x, t)`` to
    ``(cos(pi x), sin(pi x), t)``. Input ``(..., inputs)``, output ``(..., outputs)`` with
    ``outputs = inputs + len(periods)``.

    Each :math:`x_i` is first reduced to :math:`r = x_i - P_i\,\mathrm{round}(x_i / P_i)` in
    :math:`[-P_i/2, P_i/2]` (derivative 1), so ``f(x + P_i e_i)`` differs from ``f(x)`` only through the rounding
    of ``x_i + P_i`` (bitwise equal when ``P_i`` is a power of two and ``x_i + P_i`` is exact).
    """

    def __init__(self, inputs: int, periods: Mapping[int, float] | Iterable[tuple[int, float]]):
        super().__init__()
        self.inputs = check_positive_int(inputs, "inputs")
        self._periods = _check_periods(periods, self.inputs)
        self.outputs = self.inputs + len(self._periods)

    @property
    def periods(self) -> dict[int, float]:
        """``{coordinate index: period}`` (a copy), sorted by index."""
        return dict(self._periods)

    def forward(self, x: Tensor) -> Tensor:
        """``(..., inputs) -> (..., inputs + len(periods))``."""
        check_points(x, self.inputs)
        columns, start = [], 0  # runs of pass-through coordinates are sliced in one piece
        for i, period in self._periods.items():
            if start < i:
                columns.append(x[..., start:i])
            xi = x[..., i:i + 1]
            r = xi - period * torch.round(xi / period)
            phase = r * (2 * math.pi / period)
            columns += [torch.cos(phase), torch.sin(phase)]
            start = i + 1
        if start < self.inputs:
            columns.append(x[..., start:])
        return torch.cat(columns, dim=-1)

    def extra_repr(self) -> str:
        return f"inputs={self.inputs}, periods={self._periods}"

    @property
    def config(self) -> dict:
        """Constructor arguments (JSON-serialisable): periods as ``[[index, period], ...]`` (JSON objects would
        turn the integer indices into strings)."""
        return {"inputs": self.inputs, "periods": [[i, p] for i, p in self._periods.items()]}
