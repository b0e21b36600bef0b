"""A strong-Wolfe line search: bracketing (Nocedal & Wright, *Numerical Optimization*, 2nd ed., Alg. 3.5) and zoom
(Alg. 3.6) with safeguarded cubic interpolation.

Along a descent direction ``d`` (shape ``(n,)``) from the point ``x``, the search looks at the 1-D function

    phi(alpha) = f(x + alpha d),        phi'(alpha) = grad f(x + alpha d) . d,

given by ``evaluate(alpha) -> (f, grad f)`` (the flat gradient, shape ``(n,)``), and returns a step ``alpha > 0``
satisfying the strong Wolfe conditions

    phi(alpha) <= phi(0) + c1 alpha phi'(0)          (sufficient decrease)
    |phi'(alpha)| <= c2 |phi'(0)|                    (curvature)

with ``0 < c1 < c2 < 1`` (defaults ``1e-4`` and ``0.9``, the usual values for quasi-Newton methods). A point whose
value or derivative is not finite never satisfies them: it is treated as a step too long, and the search shrinks
the step towards the last good one. When the evaluation budget runs out first, the best point found that
satisfies sufficient decrease is returned (``wolfe=False``); when none does, the step is 0 (``decrease=False``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from torch import Tensor

from ..checks import check_in_interval, check_positive_float, check_positive_int

#: ``evaluate(alpha) -> (loss, flat gradient)`` at ``x + alpha d``.
Evaluate = Callable[[float], tuple[float, Tensor]]

#: Interpolated trial steps keep at least this fraction of the bracket from each of its ends (else: bisection).
SAFEGUARD = 0.1
#: Bracketing grows the step by a factor in ``[GROW_MIN, GROW_MAX]`` (cubic extrapolation, clamped).
GROW_MIN, GROW_MAX = 2.0, 10.0


@dataclass(frozen=True)
class LineSearchResult:
    """What a line search found: the ``step`` alpha (0 if no point decreased the loss enough), the ``loss`` and
    flat gradient ``grad`` (shape ``(n,)``) at ``x + step d``, the number of ``evaluations`` made, whether the
    sufficient-decrease condition holds (``decrease``; False means no step was taken) and whether both strong
    Wolfe conditions hold (``wolfe``)."""

    step: float
    loss: float
    grad: Tensor
    evaluations: int
    decrease: bool
    wolfe: bool


@dataclass
class _Point:
    alpha: float
    value: float
    slope: float
    grad: Tensor

    @property
    def finite(self) -> bool:
        return math.isfinite(self.value) and math.isfinite(self.slope)


def check_wolfe_constants(c1: float, c2: float) -> tuple[float, float]:
    """``(c1, c2)`` as floats with ``0 < c1 < c2 < 1``, else a ``ValueError``."""
    c1 = check_in_interval(c1, "c1", 0, 1, low_open=True, high_open=True)
    c2 = check_in_interval(c2, "c2", 0, 1, low_open=True, high_open=True)
    if not c1 < c2:
        raise ValueError(f"the Wolfe constants must satisfy 0 < c1 < c2 < 1; got c1={c1!r}, c2={c2!r}")
    return c1, c2


def cubic_minimizer(a: float, fa: float, ga: float, b: float, fb: float, gb: float) -> float:
    """The minimizer of the cubic through ``(a, fa)``, ``(b, fb)`` with slopes ``ga``, ``gb`` (Nocedal & Wright,
    eq. 3.59), or NaN when it has none (or the data are not finite):

        d1 = ga + gb - 3 (fa - fb) / (a - b),   d2 = sign(b - a) sqrt(d1^2 - ga gb),
        alpha = b - (b - a) (gb + d2 - d1) / (gb - ga + 2 d2).
    """
    if a == b or not all(math.isfinite(v) for v in (a, fa, ga, b, fb, gb)):
        return math.nan
    d1 = ga + gb - 3.0 * (fa - fb) / (a - b)
    radicand = d1 * d1 - ga * gb
    if not radicand >= 0:
        return math.nan
    d2 = math.copysign(math.sqrt(radicand), b - a)
    denominator = gb - ga + 2.0 * d2
    if denominator == 0:
        return math.nan
    return b - (b - a) * (gb + d2 - d1) / denominator


def _interpolate(lo: _Point, hi: _Point) -> float:
    """A trial step inside the bracket ``[lo, hi]``: the cubic's minimizer if it keeps :data:`SAFEGUARD` of the
    bracket from both ends, else the midpoint. When ``hi`` is not finite the step shrinks fast, to
    :data:`SAFEGUARD` of the bracket from ``lo`` (the bad region may start anywhere beyond it)."""
    if not hi.finite:
        return lo.alpha + SAFEGUARD * (hi.alpha - lo.alpha)
    middle = 0.5 * (lo.alpha + hi.alpha)
    trial = cubic_minimizer(lo.alpha, lo.value, lo.slope, hi.alpha, hi.value, hi.slope)
    left, right = sorted((lo.alpha, hi.alpha))
    margin = SAFEGUARD * (right - left)
    if not (left + margin <= trial <= right - margin):
        return middle
    return trial


def strong_wolfe(evaluate: Evaluate, direction: Tensor, loss: float, grad: Tensor, step: float = 1.0, *,
                 c1: float = 1e-4, c2: float = 0.9, max_evals: int = 25, max_step: float = math.inf
                 ) -> LineSearchResult:
    """A step along ``direction`` satisfying the strong Wolfe conditions (see the module docstring).

    Parameters
    ----------
    evaluate : callable
        ``alpha -> (loss, flat gradient)`` at ``x + alpha * direction``.
    direction : Tensor, shape (n,)
        A descent direction: ``grad . direction < 0``.
    loss : float
        ``phi(0)``, the loss at ``x``.
    grad : Tensor, shape (n,)
        The flat gradient at ``x``.
    step : float
        The first trial step (1 for a quasi-Newton direction).
    c1, c2 : float
        The Wolfe constants, ``0 < c1 < c2 < 1``.
    max_evals : int
        At most this many calls of ``evaluate``.
    max_step : float
        The largest step tried (default: no limit but the budget).
    """
    c1, c2 = check_wolfe_constants(c1, c2)
    step = check_positive_float(step, "step")
    max_evals = check_positive_int(max_evals, "max_evals")
    if not (isinstance(max_step, (int, float)) and max_step > 0):
        raise ValueError(f"max_step must be a positive number; got {max_step!r}")
    loss = float(loss)
    slope0 = float(grad.dot(direction))
    if not (math.isfinite(loss) and math.isfinite(slope0)):
        raise ValueError(f"the line search needs a finite loss and slope at its start; got loss={loss}, "
                         f"slope={slope0}")
    if not slope0 < 0:
        raise ValueError(f"the line search needs a descent direction (grad . direction < 0); got {slope0:.3g}")
    origin = _Point(0.0, loss, slope0, grad)
    evals = 0

    def at(alpha: float) -> _Point:
        nonlocal evals
        evals += 1
        value, g = evaluate(alpha)
        return _Point(alpha, float(value), float(g.dot(direction)), g)

    def armijo(p: _Point) -> bool:
        return p.finite and p.value <= loss + c1 * p.alpha * slope0

    def curvature(p: _Point) -> bool:
        return abs(p.slope) <= -c2 * slope0

    def result(p: _Point) -> LineSearchResult:
        ok = p.alpha > 0 and armijo(p)
        return LineSearchResult(p.alpha if ok else 0.0, p.value if ok else loss, p.grad if ok else grad, evals,
                                ok, ok and curvature(p))

    def zoom(lo: _Point, hi: _Point) -> LineSearchResult:
        """Alg. 3.6: ``lo`` satisfies sufficient decrease with the lowest value seen so far, and the bracket
        between ``lo`` and ``hi`` holds a strong-Wolfe step. A trial whose value ties with ``lo``'s (round-off, near
        a minimum) is not rejected for it: its slope says which side to keep."""
        while evals < max_evals:
            alpha = _interpolate(lo, hi)
            if alpha in (lo.alpha, hi.alpha) or abs(hi.alpha - lo.alpha) <= 1e-16 * max(lo.alpha, hi.alpha):
                break  # the bracket is below the resolution of a float: no new point to try
            trial = at(alpha)
            if not armijo(trial) or trial.value > lo.value:  # a tie (round-off): the slope decides
                hi = trial
                continue
            if curvature(trial):
                return result(trial)
            if trial.slope * (hi.alpha - lo.alpha) >= 0:
                hi = lo
            lo = trial
        return result(lo)

    # Alg. 3.5: grow the step until the bracket [previous, current] holds a strong-Wolfe step
    previous, alpha = origin, min(step, max_step)
    while evals < max_evals:
        current = at(alpha)
        if not armijo(current) or (previous.alpha > 0 and current.value >= previous.value):
            return zoom(previous, current)
        if curvature(current):
            return result(current)
        if current.slope >= 0:
            return zoom(current, previous)
        if alpha >= max_step:
            return result(current)
        grow = cubic_minimizer(previous.alpha, previous.value, previous.slope, current.alpha, current.value,
                               current.slope)
        low, high = alpha + GROW_MIN * (alpha - previous.alpha), alpha + GROW_MAX * (alpha - previous.alpha)
        grow = min(max(grow, low), high) if math.isfinite(grow) else low
        previous, alpha = current, min(grow, max_step)
    return result(previous)
