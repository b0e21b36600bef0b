"""Exercise 5: a network of your own, periodic by construction.

On a ring (x in [0, 2 pi) with x = 0 and x = 2 pi the same point) a solution must be 2 pi-periodic. Instead of a
periodic boundary condition, build it into the network: feed (cos x, sin x) to an MLP. Write the module
``PeriodicNet``: input (N, 1), output (N, 1). It must be smooth (every derivative engine of pinnkit must agree
with finite differences up to third order) and periodic: net(x + 2 pi) = net(x).

Run ``python docs/course/exercises/check.py 5``.
"""

import torch
from torch import nn

import pinnkit as pk


class PeriodicNet(nn.Module):
    """u(x) = MLP(cos x, sin x): points (N, 1) -> outputs (N, 1)."""

    def __init__(self, width: int = 16, depth: int = 2):
        super().__init__()
        self.mlp = pk.nets.MLP(2, 1, width=width, depth=depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("TODO: the embedding (cos x, sin x), then the MLP")
