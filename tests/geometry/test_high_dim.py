"""Balls and boxes in high dimensions: log measures, O(n d) "random" sampling, and clear refusals of QMC methods
beyond the dimensions they can draw in."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import pinnkit.geometry as G
from pinnkit.geometry.unit_samples import MAX_DIMS, method_for_dim, unit_samples

F64 = torch.float64


def ball_log_volume(d: int, r: float) -> float:
    return d / 2 * math.log(math.pi) - math.lgamma(d / 2 + 1) + d * math.log(r)


@pytest.mark.parametrize("d", [1000, 100_000])
def test_ball_constructs_and_samples_in_high_dimension(d):
    c, r = np.full(d, 0.5), 2.0
    ball = G.Hypersphere(c, r)
    assert ball.log_measure == pytest.approx(ball_log_volume(d, r), rel=1e-14)
    assert ball.log_boundary_measure == pytest.approx(
        math.log(2) + d / 2 * math.log(math.pi) - math.lgamma(d / 2) + (d - 1) * math.log(r), rel=1e-14)
    x = ball.sample_interior(8, "random", seed=0, dtype=F64)
    b = ball.sample_boundary(8, "random", seed=1, dtype=F64)
    for pts in (x, b):
        assert pts.shape == (8, d) and pts.dtype == F64 and bool(torch.isfinite(pts).all())
    dist_x = torch.linalg.vector_norm(x - torch.from_numpy(c), dim=1)
    dist_b = torch.linalg.vector_norm(b - torch.from_numpy(c), dim=1)
    assert bool((dist_x <= r * (1 + 1e-12)).all())
    torch.testing.assert_close(dist_b, torch.full_like(dist_b, r), rtol=1e-12, atol=0)
    assert bool(ball.inside(x).all()) and bool(ball.on_boundary(b).all())


@pytest.mark.parametrize("d", [1000, 100_000])
def test_box_constructs_and_samples_in_high_dimension(d):
    lo, hi = -np.ones(d), np.ones(d)
    lo[0], hi[0] = 0.0, 4.0  # one long side: its two faces have half the area of the others
    box = G.Hypercube(lo, hi)
    assert box.log_measure == pytest.approx((d - 1) * math.log(2) + math.log(4), rel=1e-14)
    assert box.log_boundary_measure == pytest.approx(
        math.log(2) + box.log_measure + math.log(1 / 4 + (d - 1) / 2), rel=1e-14)
    x = box.sample_interior(8, "random", seed=0, dtype=F64)
    b = box.sample_boundary(8, "random", seed=1, dtype=F64)
    lo_t, hi_t = torch.from_numpy(lo), torch.from_numpy(hi)
    for pts in (x, b):
        assert pts.shape == (8, d) and pts.dtype == F64
        assert bool(((pts >= lo_t) & (pts <= hi_t)).all())
    on_face = ((b == lo_t) | (b == hi_t)).sum(dim=1)
    assert bool((on_face >= 1).all())  # every boundary point has a coordinate on a face
    face = box.boundary("x2_max").sample(8, "random", seed=2, dtype=F64)
    assert bool((face[:, 1] == 1.0).all()) and bool(box.on_boundary(face).all())


def test_ball_radius_law_and_moments_at_moderate_dimension():
    d, r, n = 50, 1.5, 4000
    x = G.Hypersphere(np.zeros(d), r).sample_interior(n, "random", seed=7, dtype=F64)
    u = (torch.linalg.vector_norm(x, dim=1) / r) ** d  # uniform on (0, 1) for the law r U^(1/d)
    assert float(u.mean()) == pytest.approx(0.5, abs=4 / math.sqrt(12 * n))
    assert float((u < 0.25).double().mean()) == pytest.approx(0.25, abs=4 * math.sqrt(0.25 * 0.75 / n))
    # E[x_i] = 0 and E[x_i^2] = r^2 / (d + 2) for uniform points of the ball (E|x|^2 = r^2 d / (d + 2))
    second = r**2 / (d + 2)
    assert float(x.mean(dim=0).abs().max()) < 5 * math.sqrt(second / n)
    assert float((x**2).mean()) == pytest.approx(second, rel=0.03)
    b = G.Hypersphere(np.zeros(d), r).sample_boundary(n, "random", seed=8, dtype=F64)
    assert float(b.mean(dim=0).abs().max()) < 5 * r / math.sqrt(d * n)
    assert float((b**2).mean()) == pytest.approx(r**2 / d, rel=1e-12)  # every row has |b|^2 = r^2


def test_box_boundary_faces_are_chosen_by_area():
    d, n = 40, 8000
    lo, hi = np.zeros(d), np.ones(d)
    hi[0] = 0.25  # the faces x1 = 0 and x1 = 0.25 have area 1 / 0.25 = 4 times that of the others' (0.25)
    b = G.Hypercube(lo, hi).sample_boundary(n, "random", seed=3, dtype=F64)
    on_first = float(((b[:, 0] == 0.0) | (b[:, 0] == 0.25)).double().mean())
    p = 2 * 4 / (2 * 4 + 2 * (d - 1))
    assert on_first == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / n))


def test_log_measures_agree_with_the_closed_forms_in_low_dimension():
    s = G.Sphere([1.0, 0.0, 0.0], 2.0)
    assert s.measure == pytest.approx(4 / 3 * math.pi * 8, rel=1e-15)
    assert math.exp(s.log_measure) == pytest.approx(4 / 3 * math.pi * 8, rel=1e-14)
    assert math.exp(s.log_boundary_measure) == pytest.approx(16 * math.pi, rel=1e-14)
    disk = G.Disk([0.0, 0.0], 3.0)
    assert math.exp(disk.log_measure) == pytest.approx(9 * math.pi, rel=1e-14)
    assert math.exp(disk.log_boundary_measure) == pytest.approx(6 * math.pi, rel=1e-14)
    box = G.Cuboid([0, 0, 0], [1, 2, 3])
    assert math.exp(box.log_measure) == pytest.approx(6.0, rel=1e-14)
    assert math.exp(box.log_boundary_measure) == pytest.approx(22.0, rel=1e-14)
    assert box.boundary_measure == pytest.approx(22.0, rel=1e-15)
    for d in (5, 17, 400):
        ball = G.Hypersphere(np.zeros(d), 1.3)
        assert ball.log_measure == pytest.approx(ball_log_volume(d, 1.3), rel=1e-13)


def test_high_dimensional_measures_underflow_or_overflow_but_stay_usable():
    ball = G.Hypersphere(np.zeros(1000), 1.0)
    assert ball.measure == 0.0 and ball.log_measure < -2000
    box = G.Hypercube(-np.ones(1100), np.ones(1100))
    assert box.measure == math.inf and box.log_measure == pytest.approx(1100 * math.log(2))
    assert (box * G.TimeDomain(0, 2)).log_measure == pytest.approx(1101 * math.log(2))


@pytest.mark.parametrize("make", [lambda: G.Sphere([0, 0, 0], 1e300), lambda: G.Cuboid([0, 0, 0], [1e120] * 3)])
def test_an_overflowing_low_dimensional_measure_is_still_refused(make):
    with pytest.raises(ValueError, match="must give a finite (volume|boundary measure)"):
        make()


@pytest.mark.parametrize("method", ["sobol", "halton", "hammersley"])
def test_qmc_methods_refuse_dimensions_beyond_their_limit(method):
    d = MAX_DIMS[method] + 1
    with pytest.raises(ValueError, match=rf"^method='{method}' draws points in at most {MAX_DIMS[method]} "
                                         rf"dimensions; this sample needs {d}"):
        unit_samples(4, d, method, np.random.default_rng(0))
    box = G.Hypercube(np.zeros(30_000), np.ones(30_000))
    with pytest.raises(ValueError, match=rf"^method='{method}' draws points in at most"):
        box.sample_interior(4, method, seed=0)
    assert method_for_dim(method, d) == "random" and method_for_dim(method, 3) == method


def test_qmc_samples_of_a_ball_below_the_limit_stay_inside():
    d = 200
    ball = G.Hypersphere(np.zeros(d), 1.0)
    x = ball.sample_interior(16, "sobol", seed=0, dtype=F64)
    b = ball.sample_boundary(16, "lhs", seed=0, dtype=F64)
    assert bool((torch.linalg.vector_norm(x, dim=1) < 1).all())
    torch.testing.assert_close(torch.linalg.vector_norm(b, dim=1), torch.ones(16, dtype=F64), rtol=1e-12, atol=0)


def test_a_uniform_grid_on_a_ball_in_high_dimension_is_refused_without_a_huge_probe():
    with pytest.raises(ValueError, match="too thin for rejection sampling"):
        G.Hypersphere(np.zeros(1000), 1.0).sample_interior(8, "uniform", seed=0)
