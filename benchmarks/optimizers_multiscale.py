"""Adam, MultiAdam and ConFIG on a problem whose loss terms differ in scale by orders of magnitude.

The 2-D Helmholtz problem of Wang, Teng & Perdikaris (SIAM J. Sci. Comput. 43, 2021), the standard example of
unbalanced PINN losses, also the kind of problem MultiAdam (Yao et al., ICML 2023) is designed for:

    u_xx + u_yy + k^2 u = q(x, y)  on  [-1, 1]^2,   u = 0 on the boundary,
    exact solution u = sin(a1 pi x) sin(a2 pi y),   q = (k^2 - (a1^2 + a2^2) pi^2) u,

with a1 = 1, a2 = 4, k = 1 (``--a1 --a2 --k``). The source reaches |q| ~ 166, so at initialisation the PDE loss is
~1e4 while the boundary loss is ~1e-2 (printed): the PDE gradient dominates a summed loss by orders of magnitude.
MLP 2-50x4-1 tanh (Glorot), 2000 Sobol collocation points, 400 boundary points, 5000 steps; Adam lr 1e-3, MultiAdam at
its defaults (lr 1e-3, betas (0.99, 0.99), groups PDE | boundary), ConFIG around Adam lr 1e-3 (also available:
``pcgrad``, ``mconfig``). The error is the relative L2 error on a 101 x 101 grid, every 100 steps
(``--eval-every``) and at the end; the table gives the best and the final value, the median over seeds.

    python benchmarks/optimizers_multiscale.py --json out/optimizers_multiscale.json
    python benchmarks/optimizers_multiscale.py --steps 20 --seeds 0        # smoke test
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _optimizer_runs import add_common_options, check_args, report, train  # noqa: E402

import pinnkit as pk  # noqa: E402

METHODS = {
    "adam": ("Adam lr 1e-3", lambda seed: functools.partial(torch.optim.Adam, lr=1e-3)),
    "multiadam": ("MultiAdam defaults (lr 1e-3)", lambda seed: pk.optim.MultiAdam()),
    "config": ("ConFIG(Adam lr 1e-3)", lambda seed: pk.optim.ConFIG("adam", lr=1e-3)),
    "pcgrad": ("PCGrad(Adam lr 1e-3)", lambda seed: pk.optim.PCGrad("adam", lr=1e-3, seed=seed)),
    "mconfig": ("M-ConFIG(SGD lr 1e-3)", lambda seed: pk.optim.MConFIG("sgd", lr=1e-3)),
}
DEFAULT_METHODS = ["adam", "multiadam", "config"]


def helmholtz_problem(a1: float, a2: float, k: float, n_boundary: int = 400) -> pk.Problem:
    """The Helmholtz problem above, with its exact solution's source."""
    domain = pk.geometry.Rectangle([-1.0, -1.0], [1.0, 1.0])
    scale = k**2 - (a1**2 + a2**2) * math.pi**2

    def residual(f):
        q = scale * torch.sin(a1 * math.pi * f.x) * torch.sin(a2 * math.pi * f.y)
        return f.u_xx + f.u_yy + k**2 * f.u - q

    return pk.Problem(domain, residual, outputs="u", conditions=[pk.DirichletBC(domain.boundary, 0.0,
                                                                                n=n_boundary)])


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_options(p, steps=5000, methods=DEFAULT_METHODS, seeds=[0, 1, 2])
    p.add_argument("--points", type=int, default=2000, help="collocation points (default 2000)")
    p.add_argument("--a1", type=float, default=1.0)
    p.add_argument("--a2", type=float, default=4.0)
    p.add_argument("--k", type=float, default=1.0)
    args = p.parse_args(argv)
    check_args(p, args, METHODS)
    dtype = getattr(torch, args.dtype)

    problem = helmholtz_problem(args.a1, args.a2, args.k)
    g = np.linspace(-1.0, 1.0, 101)
    grid = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    u_ref = (np.sin(args.a1 * np.pi * grid[:, 0]) * np.sin(args.a2 * np.pi * grid[:, 1]))[:, None]

    def rel_l2(trainer: pk.Trainer) -> float:
        return pk.metrics.l2_relative_error(trainer.predict(grid), u_ref)

    def make_net() -> torch.nn.Module:
        return pk.nets.MLP(2, 1, width=50, depth=4, activation="tanh", init="glorot")

    runs = {}
    for name in args.methods:
        runs[name] = [train(problem, make_net, METHODS[name][1](seed), points=args.points, steps=args.steps,
                            seed=seed, dtype=dtype, device=args.device, backend=args.backend,
                            eval_every=args.eval_every, error=rel_l2) for seed in args.seeds]
    settings = {"steps": args.steps, "seeds": args.seeds, "dtype": args.dtype, "device": args.device,
                "backend": args.backend, "eval_every": args.eval_every, "points": args.points,
                "boundary_points": 400, "a1": args.a1, "a2": args.a2, "k": args.k,
                "net": "MLP 2-50x4-1 tanh, Glorot normal"}
    return report(f"Helmholtz on [-1, 1]^2, u = sin({args.a1:g} pi x) sin({args.a2:g} pi y), k = {args.k:g}: "
                  f"{args.steps} steps, {args.points} collocation + 400 boundary points, MLP 2-50x4-1 tanh",
                  settings, {k: METHODS[k][0] for k in args.methods}, runs, "rel. L2", None, args.json)


if __name__ == "__main__":
    main()
