"""Small training runs that tests/distributed run in one process and on two gloo ranks, float64.

Each scenario builds a trainer (``distributed`` passed through), trains :data:`STEPS` steps and returns what must
agree: the trained parameters flattened, the history's losses and the sampler's points.
"""

from __future__ import annotations

import math

import numpy as np
import torch

import pinnkit as pk
from pinnkit.distributed import collectives

STEPS = 20


def heat_problem() -> pk.Problem:
    """u_t = 0.1 u_xx on [-1, 1] x [0, 1] with an initial value, periodic and Neumann conditions (rows split point
    by point, by pairs, and with shared data)."""
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    return pk.Problem(domain, lambda f: f.u_t - 0.1 * f.u_xx, outputs="u", conditions=[
        pk.InitialCondition(lambda x: -torch.sin(math.pi * x[:, :1]), n=21),
        pk.PeriodicBC("x", n=9),
        pk.NeumannBC(domain.boundary, 0.0, n=11),
    ])


def inverse_problem() -> pk.Problem:
    """The heat problem with a trainable diffusivity, observed data and a mean-value condition (evaluated whole
    on each rank)."""
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.uniform(-1, 1, 30), rng.uniform(0, 1, 30)])
    u = np.exp(-0.1 * math.pi ** 2 * x[:, 1]) * np.sin(math.pi * x[:, 0])
    return pk.Problem(domain, lambda f: f.u_t - f.nu * f.u_xx, outputs="u", parameters={"nu": 0.5}, conditions=[
        pk.ObservedData(x, u[:, None]),
        pk.MeanValue(0.0, n=16, times=3),
    ])


def net() -> torch.nn.Module:
    torch.manual_seed(0)
    return pk.nets.MLP(2, 1, width=12, depth=2)


#: Scenarios that differ from plain Adam only by their optimizer.
OPTIMIZERS = ("lbfgs", "ssbroyden", "config", "mconfig", "multiadam", "pcgrad")


def pinn(name: str, distributed, device: str = "cpu") -> pk.Trainer:
    kw: dict = {"sampler": pk.sampling.FixedPoints(67, "sobol")}
    problem = heat_problem()
    if name == "r3":
        kw["sampler"] = pk.sampling.R3(67)
    elif name == "rad":
        kw["sampler"] = pk.sampling.RAD(67, period=5)
    elif name == "causal":
        kw["weighting"] = pk.weighting.CausalWeighting(chunks=4, epsilon=1.0)
    elif name == "rba":
        kw["weighting"] = pk.weighting.ResidualAttention()
    elif name == "inverse":
        problem = inverse_problem()
    elif name == "stde":  # a Laplacian from 3 random directions shared by the batch, drawn alike on every rank
        square = pk.geometry.Rectangle((-1, -1), (1, 1))
        problem = pk.Problem(square, lambda f: f.laplacian("u") + 1.0, outputs="u",
                             conditions=[pk.DirichletBC(None, 0.0, n=20)])
        kw["backend"] = pk.Backend("stde", directions=3, seed=5)
    # L-BFGS at its default step scale, 1. SSBroyden at 0.5: from 1, its 8th line search zooms seven times down to
    # a step of 0.002, after which the run's own round-off sensitivity (1 ulp on the initial weights moves its
    # 20-step parameters by 1e-10 in one process) is the size of the bar, and the test would measure that, not
    # the ranks; from 0.5 that sensitivity is 1e-13.
    lr = {"lbfgs": None, "ssbroyden": 0.5}.get(name, 1e-2)
    return pk.Trainer(problem, net(), optimizer=name if name in OPTIMIZERS else "adam", lr=lr,
                      dtype=torch.float64, device=device, seed=1, distributed=distributed, **kw)


def operator(distributed, device: str = "cpu", split: str = "points", points: int = 33,
             batch_size: int = 5) -> pk.OperatorTrainer:
    """A PI-DeepONet of an antiderivative; its ranks divide the points (the default) or the functions (``split``)."""
    if distributed is None and split != "points":
        distributed = pk.distributed.DataParallel(operator_split=split)
    space = pk.functions.GaussianRandomField(0.5, method="spectral")
    problem = pk.OperatorProblem(pk.geometry.Interval(0, 1), lambda f: f.u_x - f.v, space, np.linspace(0, 1, 10),
                                 conditions=[pk.DirichletBC("left", 0.0, n=1)])
    torch.manual_seed(0)
    net = pk.nets.DeepONet([10, 16, 8], [1, 16, 8])
    return pk.OperatorTrainer(problem, net, functions=12, batch_size=batch_size,
                              sampler=pk.sampling.FixedPoints(points),
                              lr=1e-2, dtype=torch.float64, device=device, seed=1, distributed=distributed)


SCENARIOS = ("adam", *OPTIMIZERS, "r3", "rad", "causal", "rba", "inverse", "stde", "operator", "operator_functions")


def build(name: str, distributed, device: str = "cpu"):
    """The trainer of scenario ``name`` on ``device``."""
    if name.startswith("operator"):
        return operator(distributed, device, "functions" if name == "operator_functions" else "points")
    return pinn(name, distributed, device)


def outcome(trainer) -> dict:
    """What must agree: the parameters flattened, the history's losses, the sampler's points."""
    params = torch.cat([p.detach().reshape(-1) for p in trainer.objective.parameters()]).cpu()
    return {"params": params, "loss": torch.tensor([r["loss"] for r in trainer.history], dtype=torch.float64),
            "points": trainer.sampler.points(trainer.step).detach().cpu().clone(), "step": trainer.step}


class CountedCollectives:
    """Counts the collectives made inside its ``with`` block: pinnkit's sums over the ranks (as
    ``"all_reduce"``: :func:`pinnkit.distributed.collectives.all_reduce_sum`, whichever transport it uses) and
    ``torch.distributed``'s all-gathers and broadcasts."""

    NAMES = ("all_reduce", "all_gather", "broadcast")

    def __init__(self):
        self.calls = dict.fromkeys(self.NAMES, 0)
        self._saved: list = []

    def __enter__(self):
        for module, attribute, name in ((collectives, "all_reduce_sum", "all_reduce"),
                                        (torch.distributed, "all_gather", "all_gather"),
                                        (torch.distributed, "broadcast", "broadcast")):
            original = getattr(module, attribute)
            self._saved.append((module, attribute, original))

            def counted(*args, _original=original, _name=name, **kwargs):
                self.calls[_name] += 1
                return _original(*args, **kwargs)

            setattr(module, attribute, counted)
        return self

    def __exit__(self, *exc):
        for module, attribute, original in self._saved:
            setattr(module, attribute, original)


def run(name: str, distributed, device: str = "cpu") -> dict:
    """Train scenario ``name`` on ``device`` for :data:`STEPS` steps; its :func:`outcome`, and the collectives
    the training called (``"collectives"``: name -> count)."""
    trainer = build(name, distributed, device)
    with CountedCollectives() as counted:
        trainer.fit(STEPS, log_every=5, progress=False)
    return {**outcome(trainer), "collectives": counted.calls}


def run_all(names, distributed=None, device: str = "cpu") -> dict:
    """:func:`run` for each of ``names`` (what each rank runs)."""
    return {name: run(name, distributed, device) for name in names}
