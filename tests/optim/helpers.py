"""A tiny Burgers problem and trainer shared by the optimizer tests."""

import math

import torch

import pinnkit as pk

NU = 0.01 / math.pi


def burgers_problem():
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    return pk.Problem(domain, lambda f: f.u_t + f.u * f.u_x - NU * f.u_xx, outputs="u", conditions=[
        pk.DirichletBC(domain.boundary, 0.0, n=24),
        pk.InitialCondition(lambda x: -torch.sin(math.pi * x[:, :1]), n=24)])


def trainer(optimizer="adam", seed=0, points=96, **kw):
    torch.manual_seed(seed)
    problem = burgers_problem()
    net = pk.nets.MLP(2, 1, width=10, depth=2, input_bounds=problem.domain.bbox)
    return pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(points), optimizer=optimizer, seed=seed, **kw)


def params(t):
    return [p.detach().clone() for p in t.trainable_parameters()]
