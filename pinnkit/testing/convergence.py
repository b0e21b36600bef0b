"""Training reduces the error: :func:`check_convergence`."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..checks import check_positive_float, check_positive_int


def check_convergence(trainer: Any, steps: int, *, error: Callable[[Any], float] | None = None, chunks: int = 5,
                      factor: float = 10.0, **fit_options: Any) -> list[tuple[int, float]]:
    r"""Train ``trainer`` for ``steps`` steps in ``chunks`` pieces and check that the error falls by ``factor``.

    What is checked: with :math:`e_0` the error before training and :math:`e_K` after the last chunk,
    :math:`e_K \le e_0 / \text{factor}`, every recorded value finite. Nothing is asked of the chunks in between
    (a loss may rise for a while); the curve shows them.

    Parameters
    ----------
    trainer
        A :class:`~pinnkit.Trainer` (or anything with ``fit(steps, progress=False, **options)``, ``step`` and,
        for the default error, ``current_loss()``); it is trained in place.
    steps : int
        Steps in all, split as evenly as possible over the chunks (quasi-Newton optimizers count iterations and may
        stop early: a chunk that ends training ends the run).
    error : callable, optional
        ``error(trainer) -> float``; default ``trainer.current_loss()``, the weighted total loss at the current
        points. An L2 error against a reference solution is the honest choice when one is known.
    chunks : int
        How many times to measure (besides the start).
    factor : float
        The required reduction, > 1 for a check that means anything.
    **fit_options
        Passed to every ``trainer.fit`` call (``optimizer``, ``lr``, ...).

    Returns the curve ``[(step, error), ...]``, from before training to the end; raises ``AssertionError`` with
    the curve when the error did not fall by ``factor`` (or is not finite).

    Example
    -------
    >>> trainer = pk.Trainer(problem, net, lr=1e-2)
    >>> curve = check_convergence(trainer, 500, factor=100)
    """
    steps, chunks = check_positive_int(steps, "steps"), check_positive_int(chunks, "chunks")
    factor = check_positive_float(factor, "factor")
    if chunks > steps:
        raise ValueError(f"chunks must be at most steps ({steps}); got {chunks}")
    if error is not None and not callable(error):
        raise ValueError(f"error must be a function of the trainer returning a number; got {type(error).__name__}")
    if fit_options.pop("progress", False):
        raise ValueError("check_convergence trains without a progress bar; leave progress unset")
    measure = error if error is not None else (lambda t: t.current_loss())
    curve = [(int(trainer.step), float(measure(trainer)))]
    for i in range(chunks):
        n = steps // chunks + (1 if i < steps % chunks else 0)
        trainer.fit(n, progress=False, **fit_options)
        curve.append((int(trainer.step), float(measure(trainer))))
        if getattr(trainer, "stop_training", False):
            break
    first, last = curve[0][1], curve[-1][1]
    if not all(math.isfinite(v) for _, v in curve) or not last <= first / factor:
        shown = ", ".join(f"{s}: {v:.3e}" for s, v in curve)
        reached = first / last if last else math.inf
        raise AssertionError(f"the error did not fall by a factor {factor:g} over {curve[-1][0] - curve[0][0]} "
                             f"steps: {first:.3e} -> {last:.3e} (a factor {reached:.3g}); curve (step: error) "
                             f"{shown}")
    return curve
