r"""Operator derivatives one function at a time (a comparison backend): :class:`LoopDerivatives`.

For ``M`` input functions (sensor values ``v`` (M, m)) and shared points ``x`` (N, d), the network
``net(v, x)`` (M, N, k) is differentiated per function by reverse mode,
:math:`\partial^\alpha u[m] = \partial^\alpha_x \mathrm{net}(v_m, x)` with its own
:class:`~pinnkit.derivatives.reverse.AutogradDerivatives`, and the (N,) fields are stacked to (M, N). ``M``
separate graphs: the slowest backend, and the plainest, which is what the others are checked against.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .engine import Derivatives
from .reverse import AutogradDerivatives


class LoopDerivatives(Derivatives):
    """Derivatives of ``net(v, x)`` for sensor values ``v`` (M, m) at points ``x`` (N, d), one reverse-mode engine
    per function (see the module docstring); ``u`` is (M, N, k) and ``engine(j, alpha)`` (M, N)."""

    def __init__(self, net: nn.Module, v: Tensor, x: Tensor):
        self.v = v
        super().__init__(net, x)

    def _forward(self, net, x):
        self.engines = [AutogradDerivatives(lambda p, v_i=self.v[i:i + 1]: net(v_i, p)[0], x)
                        for i in range(len(self.v))]
        return x.detach(), torch.stack([e.u for e in self.engines])

    def _compute(self, output, alpha):
        return torch.stack([e(output, alpha) for e in self.engines])
