"""Command-line scaffolding for problem scripts: the options, checks, timed training and metrics they share.

A problem script (``examples/burgers.py`` is one) keeps two dicts of settings, ``DEFAULTS`` and ``QUICK``
(a smoke test), and takes the usual options (``--steps``, ``--lbfgs-steps``, ``--points``, ``--width``,
``--depth``, ``--lr``, ``--backend``, ``--seed``, ``--device``, ``--dtype``, ``--out``, ``--quick``,
``--no-progress``). With this module such a script reads::

    p = argparse.ArgumentParser(description="...")
    pk.cli.add_common_options(p, ("steps", "lbfgs_steps", "points", "width", "depth", "lr"), DEFAULTS)
    p.add_argument("--sampler", ...)                      # the script's own options, in the order of --help
    pk.cli.add_common_options(p, ("backend", "seed", "device", "dtype", "out", "quick", "no_progress"),
                              out={"default": Path("out/burgers")})
    args = pk.cli.resolve_options(p, p.parse_args(argv), DEFAULTS, QUICK)
    ...
    wall, cpu = pk.cli.timed_fit(trainer, args.steps, args.lbfgs_steps, progress=not args.no_progress)
    pk.cli.write_json(args.out / "metrics.json", {"error": ..., **pk.cli.run_metrics(trainer, net, args, wall)})

The options whose default depends on ``--quick`` (``steps``, ``lbfgs_steps``, ``points``, ``width``, ``depth``)
are added with the default ``None`` and filled by :func:`resolve_options`; their help shows the value in
``DEFAULTS``. Where ``DEFAULTS`` names a setting differently from the option (``"adam"`` for ``--steps``),
``keys`` maps the option's name to the dict's key.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from torch import nn

from .callbacks import LambdaCallback
from .checkpoint import unwritable_reason
from .checks import check_device
from .derivatives import backend_names
from .distributed.ranks import launched

#: The quasi-Newton methods ``--quasi-newton`` offers (names of the training loop's optimizer table).
QUASI_NEWTON = ("lbfgs", "bfgs", "ssbfgs", "ssbroyden")

__all__ = ["QUASI_NEWTON", "add_common_options", "check_out", "error_curve", "fit_adam_then_lbfgs", "resolve_options",
           "run_metrics", "timed_fit", "write_json"]

# argparse settings of each common option, by its name (the argparse ``dest``); "{default}" in a help text is
# replaced by the option's default (for the options filled from DEFAULTS: the value there).
_OPTIONS: dict[str, dict[str, Any]] = {
    "steps": {"type": int, "default": None, "help": "Adam steps (default {default})"},
    "lbfgs_steps": {"type": int, "default": None, "help": "quasi-Newton iterations after Adam (default {default})"},
    "quasi_newton": {"choices": QUASI_NEWTON, "default": "lbfgs",
                     "help": "the quasi-Newton method of --lbfgs-steps (default {default}): lbfgs, or the dense "
                             "bfgs, ssbfgs, ssbroyden (self-scaled; small networks in float64)"},
    "rba": {"action": "store_true",
            "help": "residual-based attention: per-point multipliers of the PDE residual (pk.weighting."
                    "ResidualAttention, Anagnostopoulos et al. 2024)"},
    "points": {"type": int, "default": None, "help": "collocation points (default {default})"},
    "width": {"type": int, "default": None, "help": "hidden width (default {default})"},
    "depth": {"type": int, "default": None, "help": "hidden layers (default {default})"},
    "lr": {"type": float, "default": 1e-3, "help": "Adam learning rate (default 1e-3)"},
    "backend": {"choices": backend_names("pinn"), "default": "autograd",
                "help": "derivative engine (default {default})"},
    "seed": {"type": int, "default": 0, "help": "seed of the initialisation and the points"},
    "device": {"default": "cpu", "help": "cpu or cuda"},
    "dtype": {"choices": ("float32", "float64"), "default": "float64",
              "help": "default {default}; float64 lets L-BFGS go on improving where float32 stalls"},
    "out": {"type": Path, "help": "output directory"},
    "quick": {"action": "store_true", "help": "a smoke test: few steps, small net"},
    "no_progress": {"action": "store_true", "help": "no progress bar"},
}
_FILLED = ("steps", "lbfgs_steps", "points", "width", "depth")  # default None, filled from DEFAULTS / QUICK
_NON_NEGATIVE = ("steps", "lbfgs_steps")
_POSITIVE = ("points", "width", "depth", "period")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_common_options(parser: argparse.ArgumentParser, names: Iterable[str], defaults: Mapping[str, Any] | None = None,
                       *, keys: Mapping[str, str] | None = None, **overrides: Mapping[str, Any]) -> None:
    """Add the common options ``names`` (e.g. ``("steps", "lbfgs_steps", "lr")``), in that order, to ``parser``.

    ``defaults`` is the script's ``DEFAULTS`` dict: the help of ``steps``, ``lbfgs_steps``, ``points``, ``width``
    and ``depth`` shows their value there (under ``keys.get(name, name)``); these options default to ``None``
    until :func:`resolve_options` fills them. ``overrides`` replace argparse settings of one option, e.g.
    ``backend={"default": "zcs", "help": "derivative engine (default zcs)"}`` or
    ``out={"default": Path("out/burgers")}`` (``out`` has no default of its own, so it must be given one);
    ``"{default}"`` in a help text becomes the option's default. Call it several times to put the script's own
    options in between (``--help`` lists the options in the order they were added).
    """
    names = tuple(names)
    keys = dict(keys or {})
    unknown = sorted(set(names) - set(_OPTIONS))
    if unknown:
        raise ValueError(f"names: no common option {unknown}; the common options are {sorted(_OPTIONS)}")
    stray = sorted(set(overrides) - set(names))
    if stray:
        raise ValueError(f"overrides for options not being added: {stray} (names: {list(names)})")
    for name in names:
        settings = {**_OPTIONS[name], **overrides.get(name, {})}
        if name == "out" and "default" not in settings:
            raise ValueError('out: give the output folder\'s default, e.g. out={"default": Path("out/NAME")}')
        shown = settings.get("default")
        if name in _FILLED:
            key = keys.get(name, name)
            if defaults is None or key not in defaults:
                raise ValueError(f"defaults: no entry {key!r} for the default of {_flag(name)}")
            shown = defaults[key]
        if isinstance(settings.get("help"), str):
            settings["help"] = settings["help"].format(default=shown)
        parser.add_argument(_flag(name), **settings)


def resolve_options(parser: argparse.ArgumentParser, args: argparse.Namespace, defaults: Mapping[str, Any],
                    quick: Mapping[str, Any], *, keys: Mapping[str, str] | None = None,
                    positive: Iterable[str] = (), positive_finite: Iterable[str] = ()) -> argparse.Namespace:
    """Fill the options left unset (``None``) from ``quick`` (with ``--quick``) or ``defaults``, then check them.

    Each entry of the chosen dict fills the option ``name`` with ``keys.get(name, name)`` equal to its key;
    entries that name no option of ``args`` (settings the script reads itself) are left alone. The checks end
    the program through ``parser.error`` with a message naming the option: ``--steps`` and ``--lbfgs-steps``
    must be >= 0; ``--points``, ``--width``, ``--depth``, ``--period`` and the options named in ``positive``
    >= 1; ``--lr`` and the options named in ``positive_finite`` (e.g. loss weights) positive finite numbers;
    ``--device`` must name a device this machine has (``cuda...`` needs CUDA; ``gpu`` is refused with a hint);
    ``--out`` must be a directory this process can create or write to (so a read-only output folder is reported
    now, not after the run). Returns ``args``, filled in place.
    """
    base = quick if getattr(args, "quick", False) else defaults
    option_of = {key: name for name, key in (keys or {}).items()}
    for key, value in base.items():
        name = option_of.get(key, key)
        if hasattr(args, name) and getattr(args, name) is None:
            setattr(args, name, value)
    for name in _NON_NEGATIVE:
        value = getattr(args, name, None)
        if value is not None and value < 0:
            parser.error(f"{_flag(name)} must be >= 0; got {value}")
    for name in (*_POSITIVE, *positive):
        value = getattr(args, name, None)
        if value is not None and value < 1:
            parser.error(f"{_flag(name)} must be >= 1; got {value}")
    for name in ("lr", *positive_finite):
        value = getattr(args, name, None)
        if value is None and name == "lr":
            continue
        if not (math.isfinite(value) and value > 0):
            parser.error(f"{_flag(name)} must be a positive finite number; got {value}")
    device = getattr(args, "device", None)
    if isinstance(device, str):
        try:
            check_device(device)
        except ValueError as err:  # "gpu", "mps" where absent, "cuda:7" on a one-GPU machine, ...
            parser.error(f"--device {device}: {err}")
    out = getattr(args, "out", None)
    if out is not None:
        check_out(parser, out)
    return args


def check_out(parser: argparse.ArgumentParser, out: str | os.PathLike, option: str = "--out") -> None:
    """End the program through ``parser.error`` (naming ``option``) unless ``out`` is a directory this process
    can write to, or can create: so that a run whose results go there fails now, not after training.
    :func:`resolve_options` calls it for ``--out``; scripts with their own option parsing call it themselves."""
    reason = _unwritable_directory(Path(out))
    if reason is not None:
        parser.error(f"{option} {out}: {reason}")


def print_records(*keys: str) -> LambdaCallback:
    """A callback that prints one line per history record: the step, the loss and the entries ``keys`` (e.g.
    ``"l2_relative_error"``), for a script that trains without a progress bar (its output is a log)."""
    def show(_, record: dict) -> None:
        extra = "".join(f"  {k} {record[k]:.3e}" for k in keys if k in record)
        print(f"step {record['step']:6d}  loss {record['loss']:.3e}{extra}", flush=True)

    return LambdaCallback(on_log=show)


def require_one_process(parser: argparse.ArgumentParser, why: str) -> None:
    """End the program through ``parser.error`` when a launcher started it as one of several processes
    (``torchrun --nproc_per_node=N``, ``srun``; :func:`pinnkit.distributed.launched`): for scripts whose training
    is not data-parallel, which would otherwise run whole, and write their files, once per process. ``why``
    says what keeps it to one process."""
    if launched():
        parser.error(f"{parser.prog} trains in one process ({why}): run it with python, not under torchrun or srun")


def _unwritable_directory(path: Path) -> str | None:
    """Why ``path`` cannot be used (or created) as an output directory, or None if it can."""
    if path.exists():
        if not path.is_dir():
            return "it exists and is not a directory"
        if not os.access(path, os.W_OK | os.X_OK):
            return "the directory is not writable"
        return None
    return unwritable_reason(path)


def fit_adam_then_lbfgs(trainer: Any, steps: int, lbfgs_steps: int, *, log_every: int | None = None,
                        progress: bool = True, quasi_newton: str = "lbfgs") -> None:
    """``steps`` steps of the trainer's optimizer (Adam), then ``lbfgs_steps`` iterations of ``quasi_newton`` (one
    of :data:`QUASI_NEWTON`, L-BFGS by default) if any.

    ``trainer`` is a :class:`pinnkit.Trainer` or :class:`pinnkit.OperatorTrainer`. The first fit runs even for
    ``steps = 0`` (it then records the starting loss). ``log_every`` defaults to a tenth of ``steps``, at least
    1 and at most 500.
    """
    if log_every is None:
        log_every = max(1, min(500, steps // 10 or 1))
    trainer.fit(steps, log_every=log_every, progress=progress)
    if lbfgs_steps:
        trainer.fit(lbfgs_steps, optimizer=quasi_newton, log_every=log_every, progress=progress)


def timed_fit(trainer: Any, steps: int, lbfgs_steps: int, *, log_every: int | None = None,
              progress: bool = True, quasi_newton: str = "lbfgs") -> tuple[float, float]:
    """:func:`fit_adam_then_lbfgs`, timed: returns the wall-clock and CPU (this process) seconds it took."""
    start, cpu_start = time.perf_counter(), time.process_time()
    fit_adam_then_lbfgs(trainer, steps, lbfgs_steps, log_every=log_every, progress=progress,
                        quasi_newton=quasi_newton)
    return time.perf_counter() - start, time.process_time() - cpu_start


def run_metrics(trainer: Any, net: nn.Module, args: argparse.Namespace, wall: float,
                cpu: float | None = None) -> dict[str, Any]:
    """The metrics every Adam-then-L-BFGS run reports, in this order: ``wall_time_s``, ``cpu_time_s`` (only
    when ``cpu`` is given), ``steps``, ``adam_steps``, ``lbfgs_iterations``, ``lbfgs_stop_reason``,
    ``parameters`` (of ``net``), ``seed``, ``dtype``, ``device``, ``backend`` (the last four and the Adam
    steps from ``args``), ``ranks`` (the processes of data-parallel training, 1 without), ``quasi_newton`` and
    ``rba`` (where ``args`` has them) and ``error_curve`` (:func:`error_curve` of the trainer's history)."""
    metrics: dict[str, Any] = {"wall_time_s": wall}
    if cpu is not None:
        metrics["cpu_time_s"] = cpu
    metrics.update({
        "steps": trainer.step,
        "adam_steps": args.steps,
        "lbfgs_iterations": trainer.step - args.steps,
        "lbfgs_stop_reason": trainer.stop_reason,
        "parameters": sum(p.numel() for p in net.parameters()),
        "seed": args.seed, "dtype": args.dtype, "device": args.device, "backend": args.backend,
        "ranks": 1 if getattr(trainer, "ranks", None) is None else trainer.ranks.world_size,
    })
    if hasattr(args, "quasi_newton"):
        metrics["quasi_newton"] = args.quasi_newton
    if hasattr(args, "rba"):
        metrics["rba"] = args.rba
    metrics["error_curve"] = error_curve(trainer.history)
    return metrics


def error_curve(history: Iterable[Mapping[str, Any]], key: str = "l2_relative_error") -> list[list[float]]:
    """``[step, seconds, error]`` of every history record that has ``key`` (a trainer given ``reference=``
    records its relative L2 error at each logged step): the error against training time, without the time of
    the evaluations."""
    return [[record["step"], record["time"], record[key]] for record in history if key in record]


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON (and a final newline) to ``path``: into a temporary file beside it first,
    then renamed over it, so that a reader never sees a half-written file."""
    path = Path(path)
    text = json.dumps(data, indent=2) + "\n"
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
