"""Exercise 6: train a PINN to an accuracy.

The problem is -u'' = pi^2 sin(pi x) on (-1, 1) with u(-1) = u(1) = 0 (exact solution sin(pi x)). Choose the
network, the points, the precision and the optimizer so that training for STEPS steps lowers the relative L2
error by at least a factor 1000 and ends below 1e-4. The check trains your trainer with
``pinnkit.testing.check_convergence(trainer, STEPS, error=..., factor=1000, **FIT_OPTIONS)``; keep it fast
(a few seconds on a laptop).

Run ``python docs/course/exercises/check.py 6``.
"""

import math

import torch

import pinnkit as pk

STEPS = 300
#: Options of every ``trainer.fit`` call, e.g. {"optimizer": "adam"} or {"optimizer": "lbfgs"}.
FIT_OPTIONS: dict = {}


def problem() -> pk.Problem:
    return pk.Problem(pk.geometry.Interval(-1, 1), lambda f: -f.u_xx - math.pi**2 * torch.sin(math.pi * f.x),
                      conditions=[pk.DirichletBC()])


def make_trainer() -> pk.Trainer:
    """TODO: return a pk.Trainer for problem(); seed torch first so that the run is reproducible."""
    raise NotImplementedError("TODO: choose a network, sampler, dtype and optimizer")
