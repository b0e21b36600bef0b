"""Exercise 1: the heat equation, written as a pinnkit problem, and its exact solution.

    u_t = KAPPA u_xx  on  (0, 1) x (0, 1),   u(x, 0) = sin(pi x),   u(0, t) = u(1, t) = 0.

Fill in the two functions marked TODO, then run ``python docs/course/exercises/check.py 1``.
"""

import math

import torch

import pinnkit as pk

KAPPA = 0.5


def residual(f):
    """The PDE residual: zero where the heat equation holds. ``f.u_t``, ``f.u_xx`` are (N,) tensors."""
    raise NotImplementedError("TODO: return the residual of u_t = KAPPA u_xx")


def exact(x: torch.Tensor) -> torch.Tensor:
    """The exact solution at points ``x`` (N, 2), columns (x, t); returns (N,). Try separation of variables:
    u = T(t) sin(pi x)."""
    raise NotImplementedError("TODO: the exact solution")


def build_problem() -> pk.Problem:
    """The problem (given: nothing to do here)."""
    domain = pk.geometry.Interval(0, 1) * pk.geometry.TimeDomain(0, 1)
    return pk.Problem(domain, residual, outputs="u", conditions=[
        pk.InitialCondition(lambda x: torch.sin(math.pi * x[:, 0])),
        pk.DirichletBC(value=0.0),
    ])
