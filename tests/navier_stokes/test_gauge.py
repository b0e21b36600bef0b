"""PointValue and MeanValue: the residuals they promise, on spatial and space-time domains, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import pinnkit as pk
import pinnkit.geometry as G
from pinnkit.pde import MeanValue, PointValue, Problem


class Linear(torch.nn.Module):
    """u = t (1 + x + 2 y) on space-time points, u = 1 + x + 2 y on plane points."""

    def forward(self, x):
        u = 1 + x[:, 0] + 2 * x[:, 1]
        return (u * x[:, 2] if x.shape[1] == 3 else u)[:, None]


def condition_residual(domain, condition):
    problem = Problem(domain, lambda f: f.u_x - 1, "u", [condition])
    points = problem.sample_conditions(seed=3)
    batch = problem.batch(domain.sample_interior(4, seed=0, dtype=torch.float64), points)
    (bound,) = problem.conditions
    return points[bound.name], problem.evaluator(Linear().double()).residuals(batch)[bound.name].detach()


def test_point_value_on_a_plane_domain():
    points, r = condition_residual(G.Rectangle([0, 0], [1, 1]), PointValue([0.25, 1.0], 0.5, n=10))
    np.testing.assert_array_equal(points.numpy(), [[0.25, 1.0]])  # one point; n is for time only
    torch.testing.assert_close(r, torch.tensor([1 + 0.25 + 2 - 0.5], dtype=torch.float64))


def test_point_value_over_time_with_a_callable_value():
    condition = PointValue([0.5, 0.0], lambda p: 1.5 * p[:, 2], n=12)
    points, r = condition_residual(G.Rectangle([0, 0], [1, 1]) * G.TimeDomain(0, 2), condition)
    assert points.shape == (12, 3) and np.all(points[:, :2].numpy() == [0.5, 0.0])
    t = points[:, 2]
    assert len(torch.unique(t)) == 12 and bool(((0 <= t) & (t <= 2)).all())
    torch.testing.assert_close(r, 0 * t)  # u(0.5, 0, t) = 1.5 t exactly
    problem = Problem(G.Rectangle([0, 0], [1, 1]) * G.TimeDomain(0, 2), lambda f: f.u_x - 1, "u", [condition])
    assert problem.terms == ("pde", "point_u") and condition.name is None


def test_mean_value_is_the_sample_mean_per_time_level():
    condition = MeanValue(0.25, n=64, times=5)
    points, r = condition_residual(G.Rectangle([0, 0], [1, 1]) * G.TimeDomain(0, 2), condition)
    assert points.shape == (5 * 64, 3) and r.shape == (5,)
    levels = points[:, 2].reshape(5, 64)
    np.testing.assert_array_equal(levels[:, 0].numpy(), np.linspace(0, 2, 5))
    assert bool((levels == levels[:, :1]).all())
    space = points[:64, :2].numpy()
    assert np.array_equal(points[64:128, :2].numpy(), space)  # the same spatial points at every level
    expected = np.linspace(0, 2, 5) * (1 + space[:, 0] + 2 * space[:, 1]).mean() - 0.25
    np.testing.assert_allclose(r.numpy(), expected, rtol=1e-13)
    assert abs((1 + space[:, 0] + 2 * space[:, 1]).mean() - 2.5) < 0.02  # Sobol mean close to the true mean


def test_mean_value_on_a_plane_domain_is_one_residual():
    points, r = condition_residual(G.Rectangle([0, 0], [1, 1]), MeanValue(n=256))
    assert points.shape == (256, 2) and r.shape == (1,)
    assert float(r[0]) == pytest.approx(2.5, abs=0.01)


@pytest.mark.parametrize("gauge, constant", [(PointValue([0.5, 0.5], 2.0), 1.5), (MeanValue(-1.0, n=512), -1.5)])
def test_the_gauge_fixes_the_constant_in_training(gauge, constant):
    """Only grad p = (1, 0) is imposed, so p = x + c for any c; the gauge condition decides c."""
    domain = G.Rectangle([0, 0], [1, 1])
    problem = Problem(domain, lambda f: {"px": f.p_x - 1, "py": f.p_y}, "p", [gauge])
    assert problem.terms == ("px", "py", problem.conditions[0].default_name())
    torch.manual_seed(0)
    net = pk.nets.MLP(2, 1, width=8, depth=1)
    trainer = pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(64), dtype=torch.float64)
    trainer.fit(300, optimizer="lbfgs", progress=False)
    x = domain.sample_interior(50, seed=5, dtype=torch.float64).numpy()
    np.testing.assert_allclose(trainer.predict(x)[:, 0], x[:, 0] + constant, atol=2e-3)


@pytest.mark.parametrize("make, match", [
    (lambda: PointValue([0.5]), "point must have 2 coordinates"),
    (lambda: PointValue([2.0, 0.5]), "outside the domain"),
    (lambda: PointValue([[0.5, 0.5]]), r"PointValue: point must be a vector \(non-empty, 1-D\); got shape \(1, 2\)"),
    (lambda: PointValue([0.5, 0.5], np.ones(3)), "value must be a number or a callable"),
    (lambda: MeanValue("zero"), "value must be a finite number"),
    (lambda: MeanValue(times=0), "times must be a positive integer"),
    (lambda: MeanValue(n=0), "n"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        Problem(G.Rectangle([0, 0], [1, 1]) * G.TimeDomain(0, 1), lambda f: f.u_t, "u", [make()])
