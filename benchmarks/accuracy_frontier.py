"""Error against training time for Adam followed by L-BFGS, SSBFGS or SSBroyden, each with and without residual-
based attention, on Burgers, Allen-Cahn, Kovasznay and Poisson 1-D; DeepXDE's own demos beside them for Burgers
and Poisson 1-D; all in one process run.

Each pinnkit run is the bundled example as a user runs it (``examples/<case>.py``, its ``main``) with
``--quasi-newton {lbfgs,ssbfgs,ssbroyden}`` and, for the RBA recipes, ``--rba``
(:class:`pinnkit.weighting.ResidualAttention` on the PDE points), after the case's settings below; its curve is
the example's ``error_curve`` (``metrics.json``): the relative L2 error at each logged step against the
training time so far, evaluations excluded. The cases:

* ``burgers``: ``examples/burgers.py`` at its defaults (float64; 5000 Adam steps, then 8000 quasi-Newton
  iterations; a 6 x 20 network with the initial and boundary values built in; RAD points); the error of u on
  the 256 x 100 exact grid.
* ``poisson_1d``: ``examples/poisson_1d.py`` with its frontier recipe (float64, a 2 x 30 network, 64
  Hammersley points, 1000 Adam steps, then 2000 quasi-Newton iterations); the error on 100 points.
* ``kovasznay``: ``examples/kovasznay.py`` at its defaults (float64; 200 Adam steps, 13000 quasi-Newton
  iterations, a 3 x 32 network); the curve is the pooled (u, v, p) error on every 7th grid point, the table
  gives u and v on the whole 151 x 201 grid.
* ``allen_cahn``: ``examples/allen_cahn.py`` (float64; 10 time-marching windows, each 1000 Adam steps then
  1500 quasi-Newton iterations, causal weighting) with a 3 x 32 network, so that the dense methods' inverse
  Hessian stays small (2273 parameters); one curve point per window: the error on the times up to its end.

DeepXDE (from PyPI, PyTorch backend) runs its demos as it ships them, in float32: ``Burgers.py`` (an FNN
2-20x3-1, 2540 + 80 + 160 points, 15000 Adam steps at lr 1e-3, then DeepXDE's L-BFGS) and
``poisson_1d_dirichlet`` (FNN 1-50x3-1, 16 + 2 points, 10000 Adam steps at lr 1e-3); its curve is the same
error every ``--deepxde-every`` steps, the time of the evaluations excluded.

Outputs in ``--out DIR``: ``accuracy_frontier.json`` (settings, machine, threads, and per run: final errors,
wall time, parameters, the curve) and ``accuracy_frontier.png`` (one panel per case, error against seconds on
log axes). Every run is one seed (``--seed``). A full run takes hours on a 2-core CPU; ``--cases`` and
``--recipes`` pick a part, ``--quick`` is a smoke test (the examples' ``--quick`` settings)::

    python benchmarks/accuracy_frontier.py --out out/frontier
    python benchmarks/accuracy_frontier.py --cases poisson_1d --out out/frontier_poisson
    python benchmarks/accuracy_frontier.py --quick --cases poisson_1d --recipes lbfgs ssbroyden --out /tmp/f
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

try:
    from benchmarks._deepxde import burgers_demo, import_deepxde, poisson_1d_demo
    from benchmarks._examples import load_example, write_report
except ImportError:  # run as a script from the benchmarks directory
    from _deepxde import burgers_demo, import_deepxde, poisson_1d_demo
    from _examples import load_example, write_report


class Case(NamedTuple):
    """A bundled example, the options the frontier runs it with, and the final errors its metrics report."""

    example: str
    argv: tuple[str, ...]
    errors: tuple[str, ...]
    curve: str
    quick: tuple[str, ...] = ()  # with --quick: the options after the example's own --quick (not ``argv``)


CASES = {
    "burgers": Case("burgers", (), ("l2_relative_error",), "relative L2 error of u, 256 x 100 exact grid"),
    "allen_cahn": Case("allen_cahn", ("--width", "32", "--depth", "3"), ("l2_relative_error",),
                       "relative L2 error of u up to each window's end, 512 x 201 grid", ("--lbfgs-steps", "20")),
    "kovasznay": Case("kovasznay", (), ("l2_relative_error_u", "l2_relative_error_v"),
                      "relative L2 error of (u, v, p), every 7th grid point"),
    "poisson_1d": Case("poisson_1d", ("--dtype", "float64", "--width", "30", "--depth", "2", "--points", "64",
                                      "--steps", "1000", "--lbfgs-steps", "2000"), ("l2_relative_error",),
                       "relative L2 error, 100 points", ("--dtype", "float64", "--lbfgs-steps", "50")),
}
#: name: (quasi-Newton method, RBA)
RECIPES = {"lbfgs": ("lbfgs", False), "ssbfgs": ("ssbfgs", False), "ssbroyden": ("ssbroyden", False),
           "lbfgs_rba": ("lbfgs", True), "ssbfgs_rba": ("ssbfgs", True), "ssbroyden_rba": ("ssbroyden", True)}
LABELS = {"lbfgs": "Adam + L-BFGS", "ssbfgs": "Adam + SSBFGS", "ssbroyden": "Adam + SSBroyden"}


def recipe_label(name: str) -> str:
    method, rba = RECIPES[name]
    return LABELS[method] + (" + RBA" if rba else "")


def pinnkit_run(case: Case, recipe: str, seed: int, out: Path, quick: bool) -> dict[str, Any]:
    """One example run; its final errors, wall time, parameters and curve ``[[step, seconds, error], ...]``."""
    method, rba = RECIPES[recipe]
    argv = [*(("--quick", *case.quick) if quick else case.argv), "--quasi-newton", method, "--seed", str(seed),
            "--out", str(out), "--no-progress"]
    if rba:
        argv.append("--rba")
    with contextlib.redirect_stdout(io.StringIO()):
        metrics = load_example(case.example).main(argv)
    return {"recipe": recipe, "label": recipe_label(recipe), "argv": argv,
            "errors": {k: metrics[k] for k in case.errors}, "wall_time_s": metrics["wall_time_s"],
            "steps": metrics["steps"], "parameters": metrics["parameters"], "curve": metrics["error_curve"]}


class _Curve:
    """A DeepXDE callback recording ``[iteration, seconds, error]`` every ``every`` iterations (and at the end),
    the seconds counted from the start of training without the time of its own evaluations."""

    def __init__(self, dde: Any, error: Callable[[Any], float], every: int):
        self.callback = type("ErrorCurve", (dde.callbacks.Callback,), {
            "on_train_begin": lambda cb: self._begin(), "on_epoch_end": lambda cb: self._epoch(cb.model),
            "on_train_end": lambda cb: self._record(cb.model)})()
        self.error, self.every, self.curve = error, every, []
        self.start: float | None = None
        self.excluded = 0.0
        self.last = 0

    def _begin(self) -> None:
        if self.start is None:
            self.start = time.perf_counter()

    def _epoch(self, model: Any) -> None:
        if model.train_state.iteration // self.every != self.last // self.every:
            self._record(model)

    def _record(self, model: Any) -> None:
        at = time.perf_counter()
        iteration = int(model.train_state.iteration)
        if not self.curve or self.curve[-1][0] != iteration:
            self.curve.append([iteration, at - self.start - self.excluded, self.error(model)])
        self.last = iteration
        self.excluded += time.perf_counter() - at


def deepxde_burgers(dde: Any, seed: int, every: int, quick: bool) -> dict[str, Any]:
    """DeepXDE's ``Burgers.py`` demo as it ships, with its error on the exact grid recorded along the way."""
    from pinnkit.pde.references import burgers_exact_grid

    data, net = burgers_demo(dde, seed)
    x, t, u = burgers_exact_grid()
    grid = np.stack(np.meshgrid(x, t, indexing="ij"), axis=-1).reshape(-1, 2)
    adam, lbfgs = (200, 50) if quick else (15000, None)
    return _deepxde_train(dde, data, net, grid, u.reshape(-1, 1), adam, lbfgs, every)


def deepxde_poisson_1d(dde: Any, seed: int, every: int, quick: bool) -> dict[str, Any]:
    """DeepXDE's ``poisson_1d_dirichlet`` demo as it ships."""
    data, net = poisson_1d_demo(dde, seed)
    example = load_example("poisson_1d")  # the same 100 test points as the pinnkit runs
    x = example.TEST_POINTS
    return _deepxde_train(dde, data, net, x, example.exact(x), 200 if quick else 10000, 0, every)


def _deepxde_train(dde: Any, data: Any, net: Any, points: np.ndarray, exact: np.ndarray, adam: int,
                   lbfgs: int | None, every: int) -> dict[str, Any]:
    """Adam for ``adam`` steps at lr 1e-3, then DeepXDE's L-BFGS (``None``: its own iteration limit; 0: none)."""

    def error(model: Any) -> float:
        return float(np.linalg.norm(model.predict(points) - exact) / np.linalg.norm(exact))

    model = dde.Model(data, net)
    curve = _Curve(dde, error, every)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        model.compile("adam", lr=1e-3)
        model.train(iterations=adam, display_every=max(adam, 1), verbose=0, callbacks=[curve.callback])
        if lbfgs != 0:
            options = dict(dde.optimizers.LBFGS_options)
            if lbfgs is not None:  # and as many iterations between DeepXDE's tests (1000 by default)
                dde.optimizers.set_LBFGS_options(maxiter=lbfgs)
                dde.optimizers.LBFGS_options.update(iter_per_step=min(lbfgs, 1000),
                                                    fun_per_step=int(min(lbfgs, 1000) * 1.25))
            try:
                model.compile("L-BFGS")
                model.train(verbose=0, callbacks=[curve.callback])
            finally:
                dde.optimizers.LBFGS_options.update(options)
    wall = time.perf_counter() - start - curve.excluded
    return {"recipe": "deepxde", "label": f"DeepXDE {dde.__version__} demo (float32)",
            "errors": {"l2_relative_error": curve.curve[-1][2]}, "wall_time_s": wall,
            "steps": int(model.train_state.iteration), "parameters": sum(p.numel() for p in net.parameters()),
            "curve": curve.curve}


DEEPXDE_RUNS = {"burgers": deepxde_burgers, "poisson_1d": deepxde_poisson_1d}


def plot(path: Path, results: dict[str, list[dict[str, Any]]]) -> None:
    """One panel per case: each run's curve, error against seconds, log-log."""
    fig = Figure(figsize=(5 * len(results), 4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(1, len(results)))
    colours = {"lbfgs": "C0", "ssbfgs": "C1", "ssbroyden": "C2", "deepxde": "k"}
    for ax, (case, runs) in zip(axes, results.items(), strict=True):
        for run in runs:
            method, rba = RECIPES.get(run["recipe"], ("deepxde", False))
            curve = np.asarray(run["curve"], dtype=float).reshape(-1, 3)
            keep = (curve[:, 1] > 0) & (curve[:, 2] > 0)
            ax.loglog(curve[keep, 1], curve[keep, 2], color=colours[method], ls="--" if rba else "-",
                      marker="." if len(curve) < 20 else None, label=run["label"])
        ax.set(xlabel="training time (s)", ylabel="relative L2 error")
        ax.set_title(f"{case}: {CASES[case].curve}", fontsize=8)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES), help="cases (default all)")
    p.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=list(RECIPES),
                   help="pinnkit recipes (default all six)")
    p.add_argument("--no-deepxde", action="store_true", help="leave DeepXDE's demos out")
    p.add_argument("--deepxde-every", type=int, default=250, help="DeepXDE's error every this many steps "
                   "(default 250)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a smoke test: the examples' --quick settings")
    p.add_argument("--out", type=Path, default=Path("out/accuracy_frontier"), help="output directory")
    args = p.parse_args(argv)
    if args.deepxde_every < 1:
        p.error(f"--deepxde-every must be >= 1; got {args.deepxde_every}")
    args.out.mkdir(parents=True, exist_ok=True)
    dde = None if args.no_deepxde else import_deepxde()
    results: dict[str, list[dict[str, Any]]] = {}
    for name in args.cases:
        runs = results[name] = []
        for recipe in args.recipes:
            run = pinnkit_run(CASES[name], recipe, args.seed, args.out / f"{name}_{recipe}", args.quick)
            runs.append(run)
            print(f"{name:11s} {run['label']:28s} " + ", ".join(f"{k} {v:.2e}" for k, v in run["errors"].items())
                  + f"  {run['wall_time_s']:.0f} s, {run['steps']} steps, {run['parameters']} parameters",
                  flush=True)
        if dde is not None and name in DEEPXDE_RUNS:
            run = DEEPXDE_RUNS[name](dde, args.seed, args.deepxde_every, args.quick)
            runs.append(run)
            print(f"{name:11s} {run['label']:28s} l2_relative_error {run['errors']['l2_relative_error']:.2e}  "
                  f"{run['wall_time_s']:.0f} s, {run['steps']} steps, {run['parameters']} parameters", flush=True)
    report = {"seed": args.seed, "quick": args.quick, "cases": {k: CASES[k]._asdict() for k in args.cases},
              "deepxde": None if dde is None else dde.__version__,
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                          "threads": torch.get_num_threads()},
              "runs": results}
    plot(args.out / "accuracy_frontier.png", results)
    write_report(str(args.out / "accuracy_frontier.json"), report)
    print(f"wrote {args.out}/accuracy_frontier.json and accuracy_frontier.png ({torch.get_num_threads()} threads)")
    return report


if __name__ == "__main__":
    main()
