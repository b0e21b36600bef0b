"""The strong-Wolfe line search against its definition: every step it accepts satisfies both conditions,
recomputed from the function itself; non-finite points are never accepted; bad arguments are refused."""

import math

import pytest
import torch

from pinnkit.optim.line_search import cubic_minimizer, strong_wolfe

F64 = torch.float64
ONE = torch.ones(1, dtype=F64)


def line(f, df):
    """``evaluate(alpha)`` for ``phi = f`` along the direction 1 of a 1-D problem, counting its calls."""
    calls = []

    def evaluate(alpha):
        calls.append(alpha)
        return f(alpha), torch.tensor([df(alpha)], dtype=F64)

    return evaluate, calls


def more_thuente_3(a, beta=0.01, waves=39):
    """Moré & Thuente's third test function: a kink smoothed over ``[1 - beta, 1 + beta]`` plus ripples."""
    if a <= 1 - beta:
        value, slope = 1 - a, -1.0
    elif a >= 1 + beta:
        value, slope = a - 1, 1.0
    else:
        value, slope = (a - 1) ** 2 / (2 * beta) + beta / 2, (a - 1) / beta
    ripple = 2 * (1 - beta) / (waves * math.pi)
    return (value + ripple * math.sin(waves * math.pi / 2 * a),
            slope + ripple * waves * math.pi / 2 * math.cos(waves * math.pi / 2 * a))


#: 1-D functions phi(alpha) with phi'(0) < 0: smooth, with minimizers near and far, flat and steep (the
#: Moré-Thuente test functions 1-3 among them).
FUNCTIONS = {
    "quadratic": (lambda a: (a - 3.0) ** 2, lambda a: 2 * (a - 3.0)),
    "far minimum": (lambda a: (a - 1e3) ** 2 / 1e3, lambda a: 2 * (a - 1e3) / 1e3),
    "near minimum": (lambda a: (a - 1e-3) ** 2, lambda a: 2 * (a - 1e-3)),
    "more-thuente 1": (lambda a: -a / (a * a + 2.0), lambda a: (a * a - 2.0) / (a * a + 2.0) ** 2),
    "more-thuente 2": (lambda a: (a + 0.004) ** 5 - 2 * (a + 0.004) ** 4, lambda a: 5 * (a + 0.004) ** 4
                       - 8 * (a + 0.004) ** 3),
    "more-thuente 3": (lambda a: more_thuente_3(a)[0], lambda a: more_thuente_3(a)[1]),
    "quartic": (lambda a: (a - 2) ** 4 - 3 * a, lambda a: 4 * (a - 2) ** 3 - 3),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("step", [1e-3, 1.0, 10.0, 1e3])
@pytest.mark.parametrize("c2", [0.1, 0.9])
def test_accepted_steps_satisfy_both_strong_wolfe_conditions(name, step, c2):
    f, df = FUNCTIONS[name]
    evaluate, calls = line(f, df)
    c1 = 1e-4
    out = strong_wolfe(evaluate, ONE, f(0.0), torch.tensor([df(0.0)], dtype=F64), step, c1=c1, c2=c2, max_evals=60)
    assert out.wolfe and out.decrease and out.step > 0, (name, step, out)
    assert out.evaluations == len(calls)
    assert out.loss == f(out.step) and float(out.grad[0]) == df(out.step)  # the values at the returned step
    assert f(out.step) <= f(0.0) + c1 * out.step * df(0.0)
    assert abs(df(out.step)) <= c2 * abs(df(0.0))


def test_the_first_step_is_taken_when_it_already_satisfies_the_conditions():
    f, df = FUNCTIONS["quadratic"]
    evaluate, calls = line(f, df)
    out = strong_wolfe(evaluate, ONE, f(0.0), torch.tensor([df(0.0)], dtype=F64), 3.0)
    assert out.step == 3.0 and out.evaluations == 1 and calls == [3.0]


def test_a_non_finite_point_is_never_accepted_and_the_step_shrinks():
    # phi = -log(1 - alpha) - 2 alpha: infinite or NaN at alpha >= 1, minimum at alpha = 1/2
    def f(a):
        return -math.log(1 - a) - 2 * a if a < 1 else (math.inf if a == 1 else math.nan)

    def df(a):
        return 1 / (1 - a) - 2 if a < 1 else math.nan

    for step in (1.0, 4.0, 1e6):
        evaluate, calls = line(f, df)
        out = strong_wolfe(evaluate, ONE, 0.0, torch.tensor([-1.0], dtype=F64), step)
        assert out.wolfe and 0 < out.step < 1 and math.isfinite(out.loss), step
        assert calls[0] == step and min(calls) < 1  # it started beyond the pole and came back
        assert abs(df(out.step)) <= 0.9


def test_an_exhausted_budget_returns_the_best_decrease_or_no_step():
    f, df = FUNCTIONS["quadratic"]
    g0 = torch.tensor([df(0.0)], dtype=F64)
    evaluate, _ = line(f, df)
    out = strong_wolfe(evaluate, ONE, f(0.0), g0, 100.0, max_evals=1)  # 100 fails sufficient decrease
    assert (out.step, out.loss, out.decrease, out.wolfe, out.evaluations) == (0.0, f(0.0), False, False, 1)
    assert out.grad is g0
    evaluate, _ = line(f, df)
    out = strong_wolfe(evaluate, ONE, f(0.0), g0, 1e-6, max_evals=2)  # tiny steps decrease but not enough curve
    assert out.decrease and not out.wolfe and out.step > 1e-6 and out.loss < f(0.0)


def test_the_search_works_in_n_dimensions_along_the_direction():
    torch.manual_seed(0)
    A = torch.randn(5, 5, dtype=F64)
    A = A @ A.T + torch.eye(5, dtype=F64)
    x = torch.randn(5, dtype=F64)
    g = A @ x
    d = -g

    def evaluate(alpha):
        z = x + alpha * d
        return float(0.5 * z @ A @ z), A @ z

    out = strong_wolfe(evaluate, d, float(0.5 * x @ A @ x), g, 1.0, c2=0.1)
    exact = float(g @ g / (d @ A @ d))
    assert out.wolfe and abs(float(out.grad @ d)) <= 0.1 * abs(float(g @ d))
    assert out.step == pytest.approx(exact, rel=0.2)


def test_cubic_interpolation_is_exact_on_cubics_and_quadratics():
    f, df = (lambda a: a ** 3 - 3 * a), (lambda a: 3 * a * a - 3)  # local minimum at 1
    assert cubic_minimizer(0.0, f(0.0), df(0.0), 2.0, f(2.0), df(2.0)) == pytest.approx(1.0, rel=1e-14)
    assert cubic_minimizer(2.0, f(2.0), df(2.0), 0.0, f(0.0), df(0.0)) == pytest.approx(1.0, rel=1e-14)
    q, dq = (lambda a: (a - 0.3) ** 2), (lambda a: 2 * (a - 0.3))
    assert cubic_minimizer(0.0, q(0.0), dq(0.0), 1.0, q(1.0), dq(1.0)) == pytest.approx(0.3, rel=1e-14)
    assert math.isnan(cubic_minimizer(0.0, 0.0, -1.0, 1.0, math.inf, 0.0))
    assert math.isnan(cubic_minimizer(1.0, 0.0, -1.0, 1.0, 0.0, 1.0))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"c1": 0.0}, r"c1 must be a number in \(0, 1\); got 0.0"),
    ({"c1": 1.0}, r"c1 must be a number in \(0, 1\)"),
    ({"c2": 1.0}, r"c2 must be a number in \(0, 1\); got 1.0"),
    ({"c2": -0.5}, r"c2 must be a number in \(0, 1\)"),
    ({"c1": 0.5, "c2": 0.5}, r"0 < c1 < c2 < 1; got c1=0.5, c2=0.5"),
    ({"c1": 0.9, "c2": 0.1}, r"0 < c1 < c2 < 1"),
    ({"c1": "0.1"}, r"c1 must be a number"),
    ({"c2": math.nan}, r"c2 must be a number"),
    ({"max_evals": 0}, r"max_evals must be a positive integer; got 0"),
    ({"max_step": -1.0}, r"max_step must be a positive number"),
])
def test_bad_arguments_are_refused_clearly(kwargs, message):
    f, df = FUNCTIONS["quadratic"]
    evaluate, calls = line(f, df)
    with pytest.raises(ValueError, match=message):
        strong_wolfe(evaluate, ONE, f(0.0), torch.tensor([df(0.0)], dtype=F64), 1.0, **kwargs)
    assert not calls


def test_a_direction_that_does_not_descend_or_a_non_finite_start_is_refused():
    f, df = FUNCTIONS["quadratic"]
    evaluate, _ = line(f, df)
    with pytest.raises(ValueError, match="descent direction"):
        strong_wolfe(evaluate, -ONE, f(0.0), torch.tensor([df(0.0)], dtype=F64))
    with pytest.raises(ValueError, match="step must be a positive finite number"):
        strong_wolfe(evaluate, ONE, f(0.0), torch.tensor([df(0.0)], dtype=F64), 0.0)
    with pytest.raises(ValueError, match="finite loss and slope"):
        strong_wolfe(evaluate, ONE, math.nan, torch.tensor([df(0.0)], dtype=F64))
