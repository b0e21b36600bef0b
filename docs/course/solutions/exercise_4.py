"""Reference solution of exercise 4: g = -sin(pi x) is the initial value and vanishes at x = -1, 1;
d = t (1 - x^2) vanishes at t = 0 and at x = -1, 1."""

import torch

import pinnkit as pk

NAMES = ("x", "t")


def constrained(net: torch.nn.Module) -> torch.nn.Module:
    return pk.nets.HardConstraint(net, pk.nets.Expression("-sin(pi*x)", NAMES),
                                  pk.nets.Expression("t*(1 - x**2)", NAMES))
