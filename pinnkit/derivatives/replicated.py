r"""Operator derivatives on replicated points (a comparison backend): :class:`ReplicatedDerivatives`.

The shared points ``x`` (N, d) are copied once per function, ``X`` (M, N, d), and reverse mode differentiates
``net(v, X)`` (M, N, k) with respect to ``X``: one graph for all functions, but ``M`` times the coordinates (what
DeepXDE's unaligned DeepONet training does).
"""

from __future__ import annotations

from torch import Tensor, nn

from .reverse import AutogradDerivatives


class ReplicatedDerivatives(AutogradDerivatives):
    """Reverse-mode derivatives of ``net(v, X)`` at ``X = x`` replicated per function: sensor values ``v`` (M, m),
    points ``x`` (N, d); ``u`` is (M, N, k) and ``engine(j, alpha)`` (M, N)."""

    def __init__(self, net: nn.Module, v: Tensor, x: Tensor):
        if not isinstance(x, Tensor) or x.ndim != 2:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"points must have shape (N, d); got {shape}")
        super().__init__(lambda p: net(v, p), x.expand(len(v), *x.shape).contiguous())
