"""Every geometry x every method: exact counts, distinct points, in the right place, reproducible."""

import math

import numpy as np
import pytest
import torch

import pinnkit.geometry as G

from .catalogue import everything

GEOMETRIES = everything()
FINITE_BOUNDARY = {"interval": 2, "time": 2, "interval-union": 4}


@pytest.mark.parametrize("method", G.METHODS)
@pytest.mark.parametrize("name", GEOMETRIES)
def test_interior_points(name, method):
    g = GEOMETRIES[name]
    x = g.sample_interior(301, method, seed=1, dtype=torch.float64)
    assert x.shape == (301, g.dim) and x.dtype == torch.float64
    assert len(torch.unique(x, dim=0)) == 301
    assert g.inside(x).all()
    assert not g.on_boundary(x).any()


@pytest.mark.parametrize("method", G.METHODS)
@pytest.mark.parametrize("name", GEOMETRIES)
def test_boundary_points(name, method):
    g = GEOMETRIES[name]
    n = FINITE_BOUNDARY.get(name, 203)
    x = g.sample_boundary(n, method, seed=2, dtype=torch.float64)
    assert x.shape == (n, g.dim)
    assert len(torch.unique(x, dim=0)) == n
    assert g.on_boundary(x).all()
    assert g.inside(x).all()
    normals = g.boundary_normal(x)
    np.testing.assert_allclose(torch.linalg.vector_norm(normals, dim=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("name", GEOMETRIES)
def test_float32_points_keep_their_classification(name):
    g = GEOMETRIES[name]
    x = g.sample_interior(500, "random", seed=3, dtype=torch.float32)
    assert x.dtype == torch.float32 and g.inside(x).all()
    b = g.sample_boundary(FINITE_BOUNDARY.get(name, 200), "random", seed=3, dtype=torch.float32)
    assert g.on_boundary(b).all()


def test_default_dtype_and_device():
    x = G.Disk([0, 0], 1).sample_interior(10)
    assert x.dtype == torch.get_default_dtype() and x.device.type == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_points_and_queries():
    g = G.Polygon([[0, 0], [2, 0], [2, 1], [1, 0.4], [0, 1]]) - G.Disk([0.5, 0.3], 0.15)
    x = g.sample_interior(1000, device="cuda")
    assert x.device.type == "cuda" and g.inside(x).all()
    b = g.sample_boundary(500, device="cuda", dtype=torch.float64)
    assert g.on_boundary(b).all() and g.boundary_normal(b).device.type == "cuda"


@pytest.mark.parametrize("method", G.METHODS)
def test_seeded_sampling_is_reproducible(method):
    g = G.Polygon([[0, 0], [2, 0], [2, 1], [1, 0.4], [0, 1]]) - G.Disk([0.5, 0.3], 0.15)
    for sample in (g.sample_interior, g.sample_boundary):
        a, b = sample(257, method, seed=11), sample(257, method, seed=11)
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        c = sample(257, method, seed=12)
        assert torch.equal(a, c) == (method in ("uniform", "hammersley"))


def test_uniform_interior_is_a_grid():
    x = G.Rectangle([0, 0], [2, 1]).sample_interior(200, "uniform", dtype=torch.float64)
    xs, ys = torch.unique(x[:, 0]), torch.unique(x[:, 1])
    assert len(xs) * len(ys) == 200 and len(xs) == 2 * len(ys)  # 20 x 10 cells, cell centres
    torch.testing.assert_close(xs[0], torch.tensor(0.05, dtype=torch.float64))


def test_large_exact_counts_and_no_duplicates():
    g = G.Polygon([[0, 0], [2, 0], [2, 1], [1, 0.4], [0, 1]]) - G.Disk([0.5, 0.3], 0.15)
    for method in G.METHODS:
        x = g.sample_interior(10_007, method, seed=0, dtype=torch.float64)
        assert len(torch.unique(x, dim=0)) == 10_007 and g.inside(x).all()


def test_boundary_is_uniform_by_length_on_a_rectangle():
    g = G.Rectangle([0, 0], [2, 1.5])
    x = g.sample_boundary(700, "random", seed=0, dtype=torch.float64)
    on_horizontal = ((x[:, 1] == 0) | (x[:, 1] == 1.5)).sum().item()
    assert on_horizontal == 400  # 700 * 4 / 7: the shares follow the edge lengths exactly


def test_boundary_is_uniform_by_arc_length_on_an_ellipse():
    """Uniform grid on the boundary: consecutive points are the same arc length apart."""
    e = G.Ellipse([0.0, 0.0], 3.0, 1.0)
    x = e.sample_boundary(400, "uniform", dtype=torch.float64)
    theta = torch.sort(torch.atan2(x[:, 1] / 1.0, x[:, 0] / 3.0) % (2 * math.pi)).values
    fine = torch.linspace(0, 2 * math.pi, 200_001, dtype=torch.float64)
    speed = torch.hypot(3.0 * torch.sin(fine), torch.cos(fine))
    arc = torch.cat([torch.zeros(1, dtype=torch.float64),
                     torch.cumsum(0.5 * (speed[1:] + speed[:-1]) * (fine[1] - fine[0]), 0)])
    s = torch.from_numpy(np.interp(theta.numpy(), fine.numpy(), arc.numpy()))
    gaps = torch.diff(s)
    torch.testing.assert_close(gaps, torch.full_like(gaps, e.boundary_measure / 400), rtol=1e-4, atol=0)


def test_sphere_surface_is_uniform_by_area():
    """Archimedes: a uniform point on the unit sphere has z uniform in [-1, 1]; and E[x_i^2] = 1/d in 5-D."""
    z = G.Sphere([0, 0, 0], 1.0).sample_boundary(4096, "sobol", seed=0, dtype=torch.float64)[:, 2]
    hist = torch.histc(z, bins=8, min=-1, max=1) / 4096
    torch.testing.assert_close(hist, torch.full_like(hist, 1 / 8), atol=0.01, rtol=0)
    x = G.Hypersphere([0.0] * 5, 1.0).sample_boundary(8192, "sobol", seed=0, dtype=torch.float64)
    torch.testing.assert_close((x**2).mean(0), torch.full((5,), 0.2, dtype=torch.float64), atol=0.01, rtol=0)


def test_hypersphere_interior_is_uniform_by_volume():
    """|x| / r of a uniform point in the d-ball has CDF s^d."""
    x = G.Hypersphere([0.0] * 5, 2.0).sample_interior(8192, "sobol", seed=0, dtype=torch.float64)
    s = torch.linalg.vector_norm(x, dim=1) / 2.0
    for q in (0.5, 0.8, 0.95):
        assert abs((s <= q).double().mean().item() - q**5) < 0.01


def test_csg_boundary_is_uniform_by_length_across_pieces():
    """Square minus a centred disk: the share of boundary points on the circle is its share of the length."""
    g = G.Rectangle([0, 0], [1, 1]) - G.Disk([0.5, 0.5], 0.25)
    x = g.sample_boundary(2000, "sobol", seed=0, dtype=torch.float64)
    on_circle = G.Disk([0.5, 0.5], 0.25).on_boundary(x).double().mean().item()
    expected = (2 * math.pi * 0.25) / (4.0 + 2 * math.pi * 0.25)
    assert abs(on_circle - expected) < 2e-3


class TestSpaceTime:
    domain = G.Disk([0.0, 0.0], 1.0) * G.TimeDomain(0.5, 2.0)

    def test_names_and_bbox(self):
        assert self.domain.names == ("x", "y", "t") and self.domain.dim == 3
        torch.testing.assert_close(self.domain.bbox, torch.tensor([[-1.0, -1.0, 0.5], [1.0, 1.0, 2.0]],
                                                                  dtype=torch.float64))
        assert (G.Interval(0, 1) * G.TimeDomain(0, 1)).names == ("x", "t")
        assert (G.Hypercube([0] * 4, [1] * 4) * G.TimeDomain(0, 1)).names == ("x1", "x2", "x3", "x4", "t")

    def test_initial_points(self):
        x = self.domain.sample_initial(300, "halton", seed=0, dtype=torch.float64)
        assert torch.all(x[:, 2] == 0.5) and len(torch.unique(x, dim=0)) == 300
        assert self.domain.on_initial(x).all() and not self.domain.on_boundary(x).any()

    def test_lateral_boundary_and_normals(self):
        x = self.domain.sample_boundary(400, "lhs", seed=0, dtype=torch.float64)
        torch.testing.assert_close(torch.linalg.vector_norm(x[:, :2], dim=1), torch.ones(400, dtype=torch.float64))
        assert torch.all((x[:, 2] > 0.5) & (x[:, 2] < 2.0))
        n = self.domain.boundary_normal(x)
        torch.testing.assert_close(n[:, :2], x[:, :2])
        assert torch.all(n[:, 2] == 0)

    def test_outside_the_time_interval_is_outside(self):
        x = torch.tensor([[0.0, 0.0, 0.4], [0.0, 0.0, 2.1], [0.0, 0.0, 1.0]], dtype=torch.float64)
        assert self.domain.inside(x).tolist() == [False, False, True]

    def test_periodic_pairs(self):
        d = G.Rectangle([0, -1], [2 * math.pi, 1]) * G.TimeDomain(0, 1)
        lo, hi = d.sample_periodic_pairs(128, "x", "sobol", seed=0, dtype=torch.float64)
        assert torch.all(lo[:, 0] == 0) and torch.all(hi[:, 0] == 2 * math.pi)
        torch.testing.assert_close(lo[:, 1:], hi[:, 1:], rtol=0, atol=0)
        assert d.on_boundary(lo).all() and d.on_boundary(hi).all()
        assert len(torch.unique(lo, dim=0)) == 128
        a, b = G.Interval(-1, 1).sample_periodic_pairs(1, "x")
        assert a.tolist() == [[-1.0]] and b.tolist() == [[1.0]]
        with pytest.raises(ValueError, match="two flat opposite"):
            self.domain.sample_periodic_pairs(10, "x")
        with pytest.raises(ValueError, match="coordinate must be one of"):
            d.sample_periodic_pairs(10, "z")


def test_finite_boundaries_of_1d_domains():
    two = G.Interval(0, 1) | G.Interval(2, 3)
    x = two.sample_boundary(4, "uniform", dtype=torch.float64)
    assert sorted(x[:, 0].tolist()) == [0.0, 1.0, 2.0, 3.0]
    seam = G.Interval(0, 1) | G.Interval(1, 2)  # the shared end point is inside the union
    assert sorted(seam.sample_boundary(2, dtype=torch.float64)[:, 0].tolist()) == [0.0, 2.0]
    with pytest.raises(ValueError, match="n must be at most 2"):
        G.Interval(0, 1).sample_boundary(3)
