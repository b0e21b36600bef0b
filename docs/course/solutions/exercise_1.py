"""Reference solution of exercise 1 (the heat equation)."""

import math

import torch

import pinnkit as pk

KAPPA = 0.5


def residual(f):
    return f.u_t - KAPPA * f.u_xx


def exact(x: torch.Tensor) -> torch.Tensor:
    # u = T(t) sin(pi x) gives T' = -KAPPA pi^2 T, T(0) = 1
    return torch.exp(-KAPPA * math.pi**2 * x[:, 1]) * torch.sin(math.pi * x[:, 0])


def build_problem() -> pk.Problem:
    domain = pk.geometry.Interval(0, 1) * pk.geometry.TimeDomain(0, 1)
    return pk.Problem(domain, residual, outputs="u", conditions=[
        pk.InitialCondition(lambda x: torch.sin(math.pi * x[:, 0])),
        pk.DirichletBC(value=0.0),
    ])
