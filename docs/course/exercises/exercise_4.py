"""Exercise 4: a hard constraint.

Burgers' problem on x in [-1, 1], t in [0, 1] has u(x, 0) = -sin(pi x) and u(-1, t) = u(1, t) = 0. Build a
network ``u = g + d * N`` that satisfies both conditions exactly, for any weights of the inner network N:
choose g (equal to the initial value at t = 0 and zero at x = -1 and x = 1) and d (zero at t = 0 and at
x = -1, 1, nonzero inside). Write them as ``pk.nets.Expression`` formulas of ("x", "t"), so that a checkpoint
can rebuild the network.

Run ``python docs/course/exercises/check.py 4``.
"""

import torch

import pinnkit as pk

NAMES = ("x", "t")
HardConstraint, Expression = pk.nets.HardConstraint, pk.nets.Expression      # what you need


def constrained(net: torch.nn.Module) -> torch.nn.Module:
    """TODO: return pk.nets.HardConstraint(net, g, d) with Expression formulas g and d."""
    raise NotImplementedError("TODO: the hard constraint")
