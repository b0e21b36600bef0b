r"""High-dimensional Hamilton-Jacobi-Bellman equation (HJB-LQG) with stochastic Taylor derivative estimators (STDE,
Shi et al., NeurIPS 2024, arXiv:2412.00088; the problem is from Han, Jentzen and E, PNAS 2018).

    u_t + Laplacian_x u - mu |grad_x u|^2 = 0   for t in [0, T], x in R^d,      u(T, x) = g(x) = log((1 + |x|^2) / 2),

with d = 100, T = 1, mu = 1 by default: the value function of the linear-quadratic-Gaussian control problem
dX = 2 sqrt(mu) m dt + sqrt(2) dW with cost E[int |m|^2 dt + g(X_T)]. The exact solution is the Cole-Hopf
transform (v = exp(-mu u) solves the backward heat equation v_t + Laplacian v = 0):

    u(t, x) = -(1/mu) log E[exp(-mu g(x + sqrt(2 (T - t)) Z))],   Z ~ N(0, I_d),

by Monte Carlo in float64 (``--mc-samples`` draws, shared by the points, in antithetic pairs), with each point's
standard error; pinnkit.pde.references.HJBLQG states the estimator, and its closed form for g = |x|^2,
u = (d / (2 mu)) log(1 + 4 mu (T - t)) + |x|^2 / (1 + 4 mu (T - t)), checks it (tests/pde/test_hjb_lqg_reference.py).

The network takes the points (x, t) (N, d + 1), time last, and is u = g(x) + (T - t) N(x, t)
(pinnkit.nets.HardConstraint), so the terminal condition holds exactly and the loss is the mean squared residual.
The spatial gradient and u_t are the first partials of u in all d + 1 coordinates from one reverse-mode backward
pass to the points of the "stde" engine (``engine.x``, a leaf that requires grad); the Laplacian in x alone is
``SecondOrder(diagonal=(1, ..., 1, 0))``, whose STDE estimate contracts the Hessian with Rademacher directions
``v = (z, 0)`` (``--directions`` K of them shared by the batch, one forward Taylor pass of order 2 along each), an
unbiased estimate of sum_i d^2 u / dx_i^2 that never differentiates twice in t. ``--exact`` takes it exactly by d
jets along the x axes instead.

Sampling, training and test, as in the STDE reference code (github.com/sail-sg/stde, ``stde/equations.py``:
``get_sample_domain_fn``, used by ``HJB_LQG``): x ~ N(0, I_d) and t ~ U(0, T), independent, fresh points every
step; the held-out test points are drawn the same way. Its other settings for this problem (``stde/config.py``,
``scripts/insep.sh``): the same hard constraint, a tanh MLP of 3 hidden layers of width 128 on (x, t), 100 points
per step, Adam with lr 1e-3 decaying linearly to 0 over 10,000 steps, 20,000 test points with 10,000 Monte Carlo
draws each; its Laplacian estimate samples 16 of the d coordinates (sparse STDE), where this script uses dense
Rademacher directions.

Where the values come from: for a radial u(t, r), r = |x|^2, the Laplacian is 4 r u_rr + 2 d u_r, a drift of speed
2d in r; the Cole-Hopf formula says the same, u(t, x) averages the terminal cost over |x + sqrt(2 (T - t)) Z|^2,
about |x|^2 + 2 d (T - t). A test point with |x|^2 near d at t < T therefore takes its value from the terminal
condition near |x|^2 + 2 d (T - t), up to d (1 + 2T), where x ~ N(0, I_d) puts almost no training points (|x|^2 is
d +- sqrt(2d)): the residual on the reference's points leaves those values to the network's extrapolation.
``--spread S`` (training points only; the test points keep the reference's law) draws x ~ N(0, s I_d) with
s ~ U(1, S) per point; the default S = 1 + 2T covers the whole range (``--spread 1`` is the reference's law).

Training is Adam (learning rate ``--lr``, falling linearly to 0 over the run (the reference's schedule)) through
pinnkit's one training loop, ``pk.training.TrainingLoop`` with the residual as a ``pk.training.FunctionObjective``
whose points come from its own seeded generator: a NaN goes back to the last finite state, and the history is every
trainer's.

Outputs in ``--out DIR``: ``metrics.json`` (relative L2 error on the held-out points, the reference's own Monte
Carlo relative error, wall time, mean step time, the settings), ``history.json`` and ``convergence.png`` (loss and
error against the step).

Run ``python examples/high_dim_hjb.py --out out/high_dim_hjb`` (``--quick`` for a smoke test).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

import pinnkit as pk
from pinnkit.derivatives import Derivatives, SecondOrder
from pinnkit.pde.references import HJBLQG
from pinnkit.plotting import plot_history

DEFAULTS = {"steps": 10000, "points": 100, "width": 128, "depth": 3, "test_points": 2000, "mc_samples": 100_000}
QUICK = {"steps": 30, "points": 32, "width": 32, "depth": 2, "test_points": 200, "mc_samples": 2000}


def sample_points(n: int, dim: int, horizon: float, generator: torch.Generator, dtype: torch.dtype, device,
                  spread: float = 1.0) -> Tensor:
    """``n`` points ``(x, t)`` (n, dim + 1), time last: ``x ~ N(0, I_dim)``, ``t ~ U(0, horizon)`` (the STDE
    reference's law, module docstring); with ``spread > 1``, ``x ~ N(0, s I_dim)`` with a variance
    ``s ~ U(1, spread)`` drawn per point instead."""
    x = torch.randn(n, dim, generator=generator, dtype=dtype, device=device)
    t = horizon * torch.rand(n, 1, generator=generator, dtype=dtype, device=device)
    if spread > 1:
        x = x * (1 + (spread - 1) * torch.rand(n, 1, generator=generator, dtype=dtype, device=device)).sqrt()
    return torch.cat([x, t], dim=1)


def make_net(problem: HJBLQG, width: int, depth: int) -> pk.nets.HardConstraint:
    """``u(x, t) = g(x) + (T - t) N(x, t)`` on points (N, d + 1), time last: (N, 1)."""
    d, horizon = problem.dim, problem.horizon
    return pk.nets.HardConstraint(pk.nets.MLP(d + 1, 1, width=width, depth=depth),
                                  lambda xt: problem.terminal_value(xt[:, :d]),
                                  lambda xt: horizon - xt[:, d])


def residual(problem: HJBLQG, engine: Derivatives, laplacian_x: SecondOrder) -> Tensor:
    """``u_t + Laplacian_x u - mu |grad_x u|^2`` (N,) from a derivative engine at points (N, d + 1)."""
    d = problem.dim
    # every first partial (N, d + 1) by one backward pass of sum_n u(x_n, t_n) to the engine's points (a leaf that
    # requires grad; the network is pointwise), kept in the graph for the parameters' gradient
    (grad,) = torch.autograd.grad(engine.u[:, 0].sum(), engine.x, create_graph=True)
    u_t, grad_x = grad[:, d], grad[:, :d]
    return u_t + engine.apply(laplacian_x, 0) - problem.mu * (grad_x**2).sum(-1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dim", type=int, default=100, help="dimension d of x (default 100)")
    p.add_argument("--horizon", type=float, default=1.0, help="terminal time T (default 1)")
    p.add_argument("--mu", type=float, default=1.0, help="control strength mu (default 1)")
    p.add_argument("--directions", type=int, default=16, help="STDE directions per step (default 16)")
    p.add_argument("--exact", action="store_true", help="exact Laplacian by d jets instead of the estimate")
    p.add_argument("--spread", type=float, default=None,
                   help="training points only: x ~ N(0, s I) with s ~ U(1, SPREAD) (default 1 + 2T, which covers\n"
                        "where the test points' values come from; 1 is the STDE reference's law x ~ N(0, I))")
    p.add_argument("--test-points", type=int, default=None,
                   help=f"held-out points for the error (default {DEFAULTS['test_points']})")
    p.add_argument("--mc-samples", type=int, default=None,
                   help=f"Monte Carlo draws of the reference per point (default {DEFAULTS['mc_samples']})")
    p.add_argument("--eval-every", type=int, default=None, help="steps between error evaluations (default "
                   "steps / 20)")
    pk.cli.add_common_options(p, ("steps", "points", "width", "depth", "lr"), DEFAULTS)
    pk.cli.add_common_options(p, ("seed", "device", "dtype", "out", "quick"),
                              dtype={"default": "float32", "help": "default float32"},
                              out={"default": Path("out/high_dim_hjb")})
    args = pk.cli.resolve_options(p, p.parse_args(argv), DEFAULTS, QUICK,
                                  positive=("dim", "directions", "test_points", "mc_samples"),
                                  positive_finite=("horizon", "mu"))
    pk.cli.require_one_process(p, "one stream of random points, not sharded over processes")
    if args.spread is None:
        args.spread = 1 + 2 * args.horizon
    if not args.spread >= 1 or args.spread == float("inf"):
        p.error(f"--spread must be a finite number >= 1; got {args.spread}")
    if args.eval_every is not None and args.eval_every < 1:
        p.error(f"--eval-every must be >= 1; got {args.eval_every}")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    dtype, device, d = getattr(torch, args.dtype), torch.device(args.device), args.dim
    torch.manual_seed(args.seed)
    problem = HJBLQG(d, horizon=args.horizon, mu=args.mu, terminal="log")
    net = make_net(problem, args.width, args.depth).to(device=device, dtype=dtype)
    backend = pk.Backend("stde", directions=None if args.exact else args.directions, seed=args.seed)
    laplacian_x = SecondOrder(diagonal=torch.cat([torch.ones(d), torch.zeros(1)]))
    points = torch.Generator(device).manual_seed(args.seed + 1)

    tick = time.perf_counter()
    test = sample_points(args.test_points, d, args.horizon, torch.Generator(device).manual_seed(12345), dtype,
                         device)
    truth, truth_se = problem.monte_carlo(test[:, d].double(), test[:, :d].double(), samples=args.mc_samples,
                                          seed=54321)
    truth_norm = torch.linalg.vector_norm(truth)
    reference_error = float(torch.linalg.vector_norm(truth_se) / truth_norm)
    reference_time = time.perf_counter() - tick
    print(f"Monte Carlo reference at {args.test_points} points, {args.mc_samples} draws: relative L2 standard "
          f"error {reference_error:.1e} ({reference_time:.1f} s)")

    def loss(step: int) -> dict[str, Tensor]:
        xt = sample_points(args.points, d, args.horizon, points, dtype, device, args.spread)
        return {"pde": residual(problem, backend.engine(net, xt), laplacian_x).pow(2).mean()}

    def error() -> dict[str, float]:
        u = torch.cat([net(part)[:, 0] for part in test.split(500)]).double()
        return {"l2_relative_error": float(torch.linalg.vector_norm(u - truth.to(u.device)) / truth_norm)}

    # Adam with the STDE reference's schedule: lr falls linearly to 0 over the run
    loop = pk.training.TrainingLoop(
        pk.training.FunctionObjective(net, loss, record=error, generator=points), optimizer="adam", lr=args.lr,
        scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda k: max(0.0, 1 - k / max(1, args.steps))))
    start = time.perf_counter()
    history = loop.fit(args.steps, log_every=args.eval_every or max(1, args.steps // 20),
                       callbacks=[pk.cli.print_records("l2_relative_error")], progress=False)
    wall = time.perf_counter() - start
    metrics = {
        "l2_relative_error": history[-1]["l2_relative_error"], "final_loss": history[-1]["loss"],
        "reference_l2_relative_standard_error": reference_error, "reference_time_s": reference_time,
        "wall_time_s": wall, "mean_step_time_s": history[-1]["time"] / max(1, args.steps), "steps": args.steps,
        "dim": d, "horizon": args.horizon, "mu": args.mu,
        "estimator": "exact d jets" if args.exact else "stde rademacher",
        "directions": None if args.exact else args.directions, "points": args.points, "spread": args.spread,
        "test_points": args.test_points, "mc_samples": args.mc_samples, "width": args.width, "depth": args.depth,
        "lr": args.lr, "seed": args.seed, "dtype": args.dtype, "device": args.device,
        "parameters": sum(p.numel() for p in net.parameters()),
    }
    pk.cli.write_json(args.out / "metrics.json", metrics)
    pk.cli.write_json(args.out / "history.json", history)
    plot_history(history, args.out / "convergence.png")
    print(f"HJB-LQG, d = {d}: relative L2 error {metrics['l2_relative_error']:.3e} after {args.steps} steps in "
          f"{wall:.1f} s ({1e3 * metrics['mean_step_time_s']:.1f} ms/step; reference {reference_time:.1f} s); "
          f"wrote {args.out}/")
    return metrics


if __name__ == "__main__":
    main()
