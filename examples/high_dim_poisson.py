"""High-dimensional Poisson on the unit ball with stochastic Taylor derivative estimators (STDE, Shi et al. 2024).

    Laplacian(u) = g  in B^d = {|x| < 1},   u = 0 on the sphere |x| = 1,

with the two-body exact solution of the STDE paper (after Hu et al., "Tackling the curse of dimensionality with
PINNs", 2024),

    u*(x) = (1 - |x|^2) sum_{i=1}^{d-1} c_i sin(x_i + cos(x_{i+1}) + x_{i+1} cos(x_i)),   c_i ~ N(0, 1) (seed 0),

and g = Laplacian(u*) in closed form, O(d) per point (pinnkit.pde.references.TwoBody states the formula).
``--equation allen_cahn`` solves Laplacian(u) + u - u^3 = g instead, g from the same u* (what
examples/high_dim_allen_cahn.py runs).

The network is u = (1 - |x|^2) N(x) (pinnkit.nets.HardConstraint with pinnkit.nets.BallDistance), so the boundary
condition holds exactly and the loss is the mean squared residual at ``--points`` points drawn afresh each step.
Training and test points follow the STDE paper's law (its reference code's unit-ball sampler): a uniform direction
``z / |z|``, ``z ~ N(0, I)``, times a radius ``r ~ U(0, 1)``, so ``|x|`` is uniform in [0, 1) and every shell
carries the same share of the points (density proportional to ``|x|^(1 - d)``). ``--sampling volume`` draws
uniformly in the ball's volume instead (radius ``U^(1/d)``), where for large d nearly every point lies in a thin
shell at the boundary (``P(|x| < 0.99) = 0.99^d``, 4e-5 at d = 1000) and the interior is neither trained nor tested.
Both are O(N d), nothing of size d^2. The Laplacian is the STDE/Hutchinson estimate from ``--directions`` Rademacher
directions shared by the batch (one forward Taylor pass of order 2 along each), i.e. ``pinnkit.Backend("stde",
directions=K)`` and ``engine.apply(Laplacian(), 0)``; with ``--exact`` it is the exact Laplacian by d jets along the
axes instead (the baseline; memory O(N d width)).

Training is Adam (learning rate ``--lr``, falling exponentially by ``--lr-drop`` over the run) through pinnkit's one
training loop, ``pk.training.TrainingLoop`` with the residual as a ``pk.training.FunctionObjective`` whose points
come from its own seeded generator: a NaN goes back to the last finite state, and the history is every trainer's.

Outputs in ``--out DIR``: ``metrics.json`` (relative L2 error on held-out points, wall time, mean step time, the
settings), ``history.json`` and ``convergence.png`` (loss and error against the step).

**Read the error against the trivial solution.** Near the origin of a high-dimensional ball every coordinate is
small (about ``|x| / sqrt(d)``), so u* is close to ``C (1 - |x|^2)`` with ``C = sum_i c_i sin(1)``, whose size
grows like ``sqrt(d)`` while the x-dependent rest does not. ``metrics.json`` therefore also gives
``baseline_l2_relative_error``, the error of the best ``C (1 - |x|^2)`` on the same test points (a net that
learns nothing but one number reaches it), and ``l2_error_over_baseline``, the trained error divided by it: only
a ratio well below 1 shows that the net learnt the x-dependent part.

**The net starts at that constant.** C is of size ``sqrt(d)`` (about 170 at d = 10,000 with these c_i), and Adam
moves the net's output by about the learning rate per step, so from a zero output it takes thousands of steps to
get there. The output bias of N is therefore set, before training, to the constant the equation implies from its
source alone, ``Laplacian(C (1 - |x|^2)) = -2 d C`` averaged over 1000 points of the training law
(``constant_guess``; for Allen-Cahn with the cubic term), which is written as ``start_constant`` in
``metrics.json``.

Run ``python examples/high_dim_poisson.py --dim 1000 --out out/high_dim_poisson`` (``--quick`` for a smoke test;
``--dim`` up to 100,000, where ``--points`` and ``--test-points`` bound the memory, N d numbers each).
"""

from __future__ import annotations

import argparse
import functools
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

import pinnkit as pk
from pinnkit.derivatives import Laplacian
from pinnkit.pde.references import TwoBody
from pinnkit.plotting import plot_history

DEFAULTS = {"steps": 5000, "points": 100, "width": 128, "depth": 4}
QUICK = {"steps": 30, "points": 32, "width": 32, "depth": 2}
EQUATIONS = ("poisson", "allen_cahn")


SAMPLING = ("radial", "volume")


def sample_ball(n: int, dim: int, generator: torch.Generator, dtype: torch.dtype, device,
                sampling: str = "radial") -> Tensor:
    """``n`` points (n, dim) in the unit ball of R^dim: ``r z / |z|`` with ``z ~ N(0, I)`` and ``r = U`` (``"radial"``,
    the STDE paper's law: ``|x|`` uniform) or ``r = U^(1/dim)`` (``"volume"``: uniform in the ball), ``U ~ U(0, 1)``."""
    z = torch.randn(n, dim, generator=generator, dtype=dtype, device=device)
    r = torch.rand(n, 1, generator=generator, dtype=dtype, device=device)
    if sampling == "volume":
        r = r ** (1.0 / dim)
    return r * z / torch.linalg.vector_norm(z, dim=1, keepdim=True)


def operator(equation: str, lap: Tensor, u: Tensor) -> Tensor:
    """The equation's left-hand side from the Laplacian and the values: (N,)."""
    return lap if equation == "poisson" else lap + u - u**3


def source(equation: str, body: TwoBody, x: Tensor) -> Tensor:
    """``g`` at ``x`` (N, d): the left-hand side applied to the exact solution, (N,)."""
    u, lap = body.solution_and_laplacian(x)
    return operator(equation, lap, u)


def constant_guess(equation: str, x: Tensor, g: Tensor, dim: int) -> float:
    """The constant C for which ``u = C (1 - |x|^2)`` best satisfies the equation on average over points ``x``
    (N, dim) with sources ``g`` (N,): with ``w = 1 - |x|^2``, ``Laplacian(C w) = -2 dim C``, so Poisson gives
    ``C = -mean(g) / (2 dim)``, and Allen-Cahn the real root of ``-mean(w^3) C^3 + (mean(w) - 2 dim) C = mean(g)``
    nearest to that (the cubic has a single real root as its slope never changes sign). From the equation and its
    source only, never from the solution."""
    g, w = g.double(), 1 - (x.double() ** 2).sum(-1)
    linear = -float(g.mean()) / (2 * dim)
    if equation == "poisson":
        return linear
    roots = np.roots([-float((w**3).mean()), 0.0, float(w.mean()) - 2 * dim, -float(g.mean())])
    real = roots[np.abs(roots.imag) < 1e-9 * np.maximum(1.0, np.abs(roots))].real
    return float(real[np.argmin(np.abs(real - linear))]) if len(real) else linear


def parse_args(argv: list[str] | None, equation: str = "poisson") -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dim", type=int, default=100, help="dimension d (default 100; up to 100,000)")
    p.add_argument("--equation", choices=EQUATIONS, default=equation, help=f"default {equation}")
    p.add_argument("--directions", type=int, default=16, help="STDE directions per step (default 16)")
    p.add_argument("--sampling", choices=SAMPLING, default="radial", help="law of the training and test points: "
                   "radius U(0, 1) (the paper's, default) or uniform in the volume")
    p.add_argument("--lr-drop", type=float, default=0.01, help="the learning rate falls exponentially by this "
                   "factor over the run (default 0.01)")
    p.add_argument("--compile-source", action="store_true", help="evaluate the exact source g through "
                   "torch.compile (one fused pass over the N x d points instead of some thirty; worth it from d ~ 1e4, "
                   "where g dominates the step; a one-off compilation of seconds, needs a C++ compiler on the CPU)")
    p.add_argument("--per-point", action="store_true", help="independent directions at every point instead of K "
                   "shared by the batch")
    p.add_argument("--exact", action="store_true", help="exact Laplacian by d jets instead of the estimate")
    p.add_argument("--test-points", type=int, default=2000, help="held-out points for the error (default 2000, "
                   "at most 2e7 / d)")
    p.add_argument("--eval-every", type=int, default=None, help="steps between error evaluations (default "
                   "steps / 20)")
    pk.cli.add_common_options(p, ("steps", "points", "width", "depth", "lr"), DEFAULTS)
    pk.cli.add_common_options(p, ("seed", "device", "dtype", "out", "quick"),
                              dtype={"default": "float32", "help": "default float32"},
                              out={"default": Path(f"out/high_dim_{equation}")})
    args = pk.cli.resolve_options(p, p.parse_args(argv), DEFAULTS, QUICK, positive=("dim", "directions"))
    pk.cli.require_one_process(p, "one stream of random points, not sharded over processes")
    if args.dim < 2:
        p.error("--dim must be at least 2")
    if not 0 < args.lr_drop <= 1:
        p.error(f"--lr-drop must be in (0, 1]; got {args.lr_drop}")
    return args


def main(argv: list[str] | None = None, equation: str = "poisson") -> dict[str, Any]:
    args = parse_args(argv, equation)
    args.out.mkdir(parents=True, exist_ok=True)
    dtype, device, d = getattr(torch, args.dtype), torch.device(args.device), args.dim
    torch.manual_seed(args.seed)
    body = TwoBody(d, seed=0)
    net = pk.nets.HardConstraint(pk.nets.MLP(d, 1, width=args.width, depth=args.depth), 0.0,
                                 pk.nets.BallDistance(1.0)).to(device=device, dtype=dtype)
    backend = pk.Backend("stde", directions=None if args.exact else args.directions, seed=args.seed,
                         per_point=args.per_point)
    decay = math.exp(math.log(args.lr_drop) / max(1, args.steps))  # lr falls by lr_drop over the run
    points = torch.Generator(device).manual_seed(args.seed + 1)
    n_test = max(10, min(args.test_points, int(2e7) // d))
    test = sample_ball(n_test, d, torch.Generator(device).manual_seed(12345), dtype, device, args.sampling)
    truth = body.solution(test.double())
    bump = 1 - (test.double() ** 2).sum(-1)  # the trivial solution's shape: the best C bump, C = <bump, u*> / |bump|^2
    baseline = float(torch.linalg.vector_norm(truth - (bump @ truth) / (bump @ bump) * bump)
                     / torch.linalg.vector_norm(truth))
    laplacian = Laplacian()
    g = functools.partial(source, args.equation, body)
    if args.compile_source:
        g = torch.compile(g, dynamic=False)
    probe = sample_ball(max(10, min(1000, int(2e7) // d)), d, torch.Generator(device).manual_seed(args.seed + 2), dtype,
                        device, args.sampling)  # at most 2e7 numbers, as the test points
    start_constant = constant_guess(args.equation, probe, source(args.equation, body, probe), d)
    with torch.no_grad():  # the net starts at the best C (1 - |x|^2) (module docstring), not near zero
        net.net.output.bias.fill_(start_constant)

    def loss(step: int) -> dict[str, Tensor]:
        x = sample_ball(args.points, d, points, dtype, device, args.sampling)
        engine = backend.engine(net, x)
        residual = operator(args.equation, engine.apply(laplacian, 0), engine.u[:, 0]) - g(x)
        return {"pde": residual.pow(2).mean()}

    def error() -> dict[str, float]:
        u = torch.cat([net(part)[:, 0] for part in test.split(500)]).double()
        return {"l2_relative_error": float(torch.linalg.vector_norm(u - truth) / torch.linalg.vector_norm(truth))}

    # Adam (fused: one kernel for the whole update; at d = 1e5 the first layer alone has 1.3e7 weights)
    loop = pk.training.TrainingLoop(pk.training.FunctionObjective(net, loss, record=error, generator=points),
                                    optimizer="adam", lr=args.lr,
                                    scheduler=lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, decay))
    start = time.perf_counter()
    history = loop.fit(args.steps, log_every=args.eval_every or max(1, args.steps // 20),
                       callbacks=[pk.cli.print_records("l2_relative_error")], progress=False)
    wall = time.perf_counter() - start
    metrics = {
        "l2_relative_error": history[-1]["l2_relative_error"], "baseline_l2_relative_error": baseline,
        "l2_error_over_baseline": history[-1]["l2_relative_error"] / baseline, "final_loss": history[-1]["loss"],
        "wall_time_s": wall, "mean_step_time_s": history[-1]["time"] / max(1, args.steps), "steps": args.steps,
        "equation": args.equation, "dim": d, "estimator": "exact d jets" if args.exact else "stde rademacher",
        "directions": None if args.exact else args.directions, "sampling": args.sampling, "points": args.points,
        "test_points": n_test, "width": args.width, "depth": args.depth, "lr": args.lr, "lr_drop": args.lr_drop,
        "compile_source": args.compile_source, "start_constant": start_constant, "seed": args.seed, "dtype": args.dtype,
        "device": args.device, "parameters": sum(p.numel() for p in net.parameters()),
    }
    pk.cli.write_json(args.out / "metrics.json", metrics)
    pk.cli.write_json(args.out / "history.json", history)
    plot_history(history, args.out / "convergence.png")
    print(f"{args.equation}, d = {d}: relative L2 error {metrics['l2_relative_error']:.3e} after {args.steps} steps "
          f"in {wall:.1f} s ({1e3 * metrics['mean_step_time_s']:.1f} ms/step; the best C (1 - |x|^2) has "
          f"{baseline:.3e}, ratio {metrics['l2_error_over_baseline']:.3f}); wrote {args.out}/")
    return metrics


if __name__ == "__main__":
    main()
