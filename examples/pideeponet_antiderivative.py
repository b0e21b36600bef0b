"""Physics-informed DeepONet for the antiderivative operator (Wang, Wang & Perdikaris, Sci. Adv. 2021).

    u'(x) = v(x),   x in [0, 1],   u(0) = 0,

learnt as the operator v -> u = int_0^x v for functions v from a Gaussian random field (length scale 0.5), from
the residual u' - v and the condition u(0) = 0 alone (a loss term for every function of the batch), with
zero-coordinate-shift derivatives.

The error is measured on ``--test-functions`` new functions against their antiderivative (the cumulative
trapezoidal rule on 20001 points, error below 1e-8): ``mean_l2_relative_error`` in ``metrics.json``.

Outputs in ``--out DIR``: ``model.pt``, ``metrics.json``, ``solution.npz`` and ``history.png``, ``solution.png``.

Run ``python examples/pideeponet_antiderivative.py --out out/pideeponet_antiderivative`` (``--quick``: seconds).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy.integrate import cumulative_trapezoid

import pinnkit as pk
from pinnkit.plotting import plot_history

SENSORS = 50
DEFAULTS = {"steps": 10_000, "functions": 1000, "batch": 100, "points": 200, "width": 64, "test": 100}
QUICK = {"steps": 30, "functions": 40, "batch": 10, "points": 32, "width": 16, "test": 5}


def residual(f):
    """u' - v."""
    return f.u_x - f.v


def antiderivative(space: pk.functions.FunctionSpace, features, x: np.ndarray) -> np.ndarray:
    """``int_0^x v`` (M, len(x)) of the functions ``features``, by the trapezoidal rule on a fine grid."""
    fine = np.linspace(0, 1, 20001)
    integral = cumulative_trapezoid(space.evaluate(features, fine).numpy(), fine, axis=1, initial=0.0)
    return np.stack([np.interp(x, fine, row) for row in integral])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    pk.cli.add_common_options(p, ("steps",), DEFAULTS)
    p.add_argument("--functions", type=int, default=None, help=f"training functions (default {DEFAULTS['functions']})")
    p.add_argument("--batch", type=int, default=None, help=f"functions per step (default {DEFAULTS['batch']})")
    pk.cli.add_common_options(p, ("points",), DEFAULTS)
    pk.cli.add_common_options(p, ("width",), DEFAULTS, width={"help": "branch and trunk width (default {default})"})
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--backend", choices=pk.derivatives.backend_names("operator"), default="zcs",
                   help="derivative backend")
    p.add_argument("--test-functions", type=int, default=None, help=f"test functions (default {DEFAULTS['test']})")
    pk.cli.add_common_options(p, ("seed", "device"), seed={"help": "seed of the initialisation, functions and points"})
    pk.cli.add_common_options(p, ("out", "quick", "no_progress"),
                              out={"default": Path("out/pideeponet_antiderivative")})
    return pk.cli.resolve_options(p, p.parse_args(argv), DEFAULTS, QUICK, keys={"test_functions": "test"},
                                  positive=("functions", "batch", "test_functions"))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    domain = pk.geometry.Interval(0, 1)
    space = pk.functions.GaussianRandomField(0.5, method="spectral")
    problem = pk.OperatorProblem(domain, residual, space, np.linspace(0, 1, SENSORS),
                                 conditions=[pk.DirichletBC("left", 0.0, n=1)])
    w = args.width
    net = pk.nets.DeepONet([SENSORS, w, w], [1, w, w], trunk_bounds=domain.bbox)
    trainer = pk.OperatorTrainer(problem, net, functions=args.functions, batch_size=args.batch, lr=args.lr,
                                 sampler=pk.sampling.FixedPoints(args.points, "sobol"), backend=args.backend,
                                 device=args.device, seed=args.seed)
    wall, _ = pk.cli.timed_fit(trainer, args.steps, 0, progress=not args.no_progress)

    features = space.sample(args.test_functions, seed=10_000 + args.seed)
    x = np.linspace(0, 1, 201)
    u_ref = antiderivative(space, features, x)
    u_pred = trainer.predict(features, x[:, None])[..., 0]
    errors = np.linalg.norm(u_pred - u_ref, axis=1) / np.linalg.norm(u_ref, axis=1)
    trainer.save(args.out / "model.pt")
    if not pk.distributed.is_main():  # under torchrun: rank 0 writes the files and reports
        return {}
    np.savez(args.out / "solution.npz", x=x, u_ref=u_ref, u_pred=u_pred, errors=errors, features=features.numpy())
    metrics = {
        "mean_l2_relative_error": float(errors.mean()),
        "median_l2_relative_error": float(np.median(errors)),
        "max_l2_relative_error": float(errors.max()),
        "test_functions": len(errors), "wall_time_s": wall, "steps": trainer.step,
        "parameters": sum(p.numel() for p in net.parameters()), "final_loss": trainer.history[-1]["loss"],
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    pk.cli.write_json(args.out / "metrics.json", metrics)
    plot_history(trainer.history, args.out / "history.png")
    fig = Figure(figsize=(6, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for i in range(min(3, len(errors))):
        ax.plot(x, u_ref[i], color=f"C{i}", label=f"reference {i}")
        ax.plot(x, u_pred[i], color=f"C{i}", ls="--", label=f"DeepONet {i}")
    ax.set(xlabel="x", ylabel="u", title="antiderivative of three test functions")
    ax.legend(fontsize=7)
    fig.savefig(args.out / "solution.png", dpi=110)
    print(f"mean relative L2 error {metrics['mean_l2_relative_error']:.3e} over {len(errors)} test functions "
          f"after {trainer.step} steps in {wall:.1f} s; wrote {args.out}/")
    return metrics


if __name__ == "__main__":
    main()
