"""Reference solution of exercise 2 (Poisson on the unit square). The exact solution is
u = sin(pi x) sin(pi y) + x y (x y is harmonic and carries the boundary values)."""

import math

import torch

import pinnkit as pk


def build_problem() -> pk.Problem:
    domain = pk.geometry.Rectangle([0, 0], [1, 1])

    def poisson(f):
        source = 2 * math.pi**2 * torch.sin(math.pi * f.x) * torch.sin(math.pi * f.y)
        return -(f.u_xx + f.u_yy) - source

    return pk.Problem(domain, poisson, outputs="u",
                      conditions=[pk.DirichletBC(None, lambda x: x[:, 0] * x[:, 1])])
