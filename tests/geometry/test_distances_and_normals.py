"""Normals, signed distances, approximate distances and measures against truth."""

import math

import pytest
import torch

import pinnkit.geometry as G

from .catalogue import composites, everything, primitives

PRIMITIVES = primitives()
ALL = everything()
MULTI_D = {k: g for k, g in ALL.items() if k not in ("interval", "time", "interval-union")}


def bbox_points(g: G.Geometry, n: int, seed: int, grow: float = 0.2) -> torch.Tensor:
    lo, hi = g.bbox
    pad = grow * (hi - lo)
    u = torch.rand(n, g.dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return lo - pad + u * (hi - lo + 2 * pad)


def scale(g: G.Geometry) -> float:
    return float((g.bbox[1] - g.bbox[0]).max())


@pytest.mark.parametrize("name", MULTI_D)
def test_normals_are_unit_and_outward(name):
    """A small step along the normal leaves the domain; a small step against it enters the interior."""
    g = MULTI_D[name]
    x = g.sample_boundary(500, "random", seed=0, dtype=torch.float64)
    n = g.boundary_normal(x)
    torch.testing.assert_close(torch.linalg.vector_norm(n, dim=1), torch.ones(500, dtype=torch.float64))
    h = 1e-5 * scale(g)
    assert not g.inside(x + h * n).any()
    inner = x - h * n
    assert g.inside(inner).all() and not g.on_boundary(inner).any()


def test_normals_off_the_boundary_are_zero():
    g = G.Disk([0, 0], 1.0)
    n = g.boundary_normal(torch.tensor([[0.2, 0.1], [2.0, 0.0], [1.0, 0.0]], dtype=torch.float64))
    assert n.tolist() == [[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]]


def test_corner_normals_follow_the_documented_rule():
    """At a corner: the normalised sum of the outward normals of the pieces that meet there."""
    s = 1 / math.sqrt(2)
    square = G.Rectangle([0, 0], [1, 1])
    n = square.boundary_normal(torch.tensor([[1.0, 1.0], [0.0, 0.0], [0.5, 1.0]]))
    torch.testing.assert_close(n, torch.tensor([[s, s], [-s, -s], [0.0, 1.0]]))
    # reflex vertex (1, 0.4) of the non-convex polygon: edges with normals (-0.6, 1)/|.| and (0.6, 1)/|.|
    poly = G.Polygon([[0, 0], [2, 0], [2, 1], [1, 0.4], [0, 1]])
    torch.testing.assert_close(poly.boundary_normal(torch.tensor([[1.0, 0.4]], dtype=torch.float64)),
                               torch.tensor([[0.0, 1.0]], dtype=torch.float64))
    cube = G.Cuboid([0, 0, 0], [1, 1, 1])
    r3 = 1 / math.sqrt(3)
    torch.testing.assert_close(cube.boundary_normal(torch.tensor([[1.0, 0.0, 1.0]])),
                               torch.tensor([[r3, -r3, r3]]))


def brute_force_distance(g: G.Geometry, x: torch.Tensor, n_boundary: int) -> tuple[torch.Tensor, float]:
    """Distance from each point to a dense uniform boundary sample, and the sample's spacing."""
    b = g.sample_boundary(n_boundary, "uniform", dtype=torch.float64)
    measure = g.boundary_measure
    spacing = (measure / n_boundary) ** (1 / (g.dim - 1)) if measure is not None else float("nan")
    return torch.cdist(x, b).min(dim=1).values, spacing


@pytest.mark.parametrize("name", ["rectangle", "disk", "ellipse", "triangle", "polygon", "cuboid", "sphere"])
def test_signed_distance_is_exact_for_primitives(name):
    g, _ = PRIMITIVES[name]
    x = bbox_points(g, 400, seed=1)
    sdf = g.signed_distance(x)
    dense = 40_000 if g.dim == 2 else 200_000
    ref, spacing = brute_force_distance(g, x, dense)
    assert torch.all(sdf.abs() <= ref + 1e-12)  # never farther than a boundary point
    assert torch.all(sdf.abs() >= ref - spacing)  # and within the sample's spacing of the nearest one
    torch.testing.assert_close(sdf < 0, g.inside(x) & ~g.on_boundary(x))


def test_ellipse_distance_matches_dense_search_closely():
    """Eberly's bisection against a 10^6-point search of the parametrised boundary (also on the axes)."""
    e = G.Ellipse([0.3, -0.1], 2.0, 0.5, angle=0.4)
    x = torch.cat([bbox_points(e, 200, seed=4),
                   e._global(torch.tensor([[0.3, 0.0], [1.9, 0.0], [0.0, 0.2], [0.0, 0.0], [2.5, 0.0],
                                           [0.0, -0.9]], dtype=torch.float64))])

    def boundary(theta):
        return e._global(torch.stack([2.0 * torch.cos(theta), 0.5 * torch.sin(theta)], dim=-1).reshape(-1, 2))

    theta = torch.linspace(0, 2 * math.pi, 100_001, dtype=torch.float64)
    best = torch.cdist(x, boundary(theta)).argmin(dim=1)
    # refine around the best coarse angle of each point: a local grid 10^4 times finer
    fine = theta[best][:, None] + torch.linspace(-2, 2, 40_001, dtype=torch.float64) * (theta[1] - theta[0])
    ref = torch.linalg.vector_norm(boundary(fine).reshape(len(x), -1, 2) - x[:, None], dim=-1).min(dim=1).values
    torch.testing.assert_close(e.signed_distance(x).abs(), ref, atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", ["interval", "hypercube4", "hypersphere5", "time"])
def test_signed_distance_of_boxes_and_balls_in_any_dimension(name):
    g, _ = PRIMITIVES[name]
    x = bbox_points(g, 500, seed=2)
    if isinstance(g, G.Hypersphere):
        expected = torch.linalg.vector_norm(x, dim=1) - g.radius
    else:
        lo, hi = g.bbox
        outside = torch.linalg.vector_norm(torch.clamp(torch.maximum(lo - x, x - hi), min=0), dim=1)
        inside = torch.minimum(x - lo, hi - x).min(dim=1).values
        expected = torch.where(outside > 0, outside, -inside)
    torch.testing.assert_close(g.signed_distance(x), expected)


@pytest.mark.parametrize("name", composites())
def test_csg_signed_distance_is_a_bound_with_the_right_sign(name):
    g = ALL[name]
    x = bbox_points(g, 400, seed=3)
    sdf = g.signed_distance(x)
    away = sdf.abs() > 1e-9
    if isinstance(g, G.SpaceTimeDomain):  # distance to the lateral boundary, membership of the spatial part
        assert torch.equal((sdf < 0)[away], g.geometry.inside(x[away, :-1]))
    else:
        assert torch.equal((sdf < 0)[away], g.inside(x[away]))
    if g.dim == 2:
        ref, _ = brute_force_distance(g, x, 40_000)
        assert torch.all(sdf.abs() <= ref + 1e-12)


@pytest.mark.parametrize("name", MULTI_D)
def test_approx_distance_vanishes_on_the_boundary_and_has_the_right_sign(name):
    g = MULTI_D[name]
    b = g.sample_boundary(300, "random", seed=5, dtype=torch.float64)
    assert g.approx_distance(b).abs().max() < 1e-9 * scale(g)
    x = g.sample_interior(300, "random", seed=6, dtype=torch.float64)
    assert torch.all(g.approx_distance(x) > 0)
    out = bbox_points(g, 2000, seed=7)
    out = out[g.signed_distance(out) > 1e-3 * scale(g)]
    assert len(out) > 0 and torch.all(g.approx_distance(out) < 0)


@pytest.mark.parametrize("name", MULTI_D)
def test_approx_distance_is_normalised_to_first_order(name):
    """Just inside a smooth part of the boundary, grad phi is the inward unit normal (autograd)."""
    g = MULTI_D[name]
    b = g.sample_boundary(200, "random", seed=8, dtype=torch.float64)
    if isinstance(g, G.SpaceTimeDomain):
        corners = torch.zeros(len(b), dtype=torch.bool)
    else:  # drop points near the meeting points of two pieces, where normalisation does not hold
        corners = torch.zeros(len(b), dtype=torch.bool)
        for leaf in g._leaves():
            if isinstance(leaf, G.Polygon):
                corners |= torch.cdist(b, leaf.vertices).min(dim=1).values < 1e-2 * scale(g)
            if isinstance(leaf, G.Hypercube):
                near = ((b - leaf.bbox[0]).abs() < 1e-2 * scale(g)) | ((b - leaf.bbox[1]).abs() < 1e-2 * scale(g))
                corners |= near.sum(dim=1) >= 2
        if isinstance(g, G.CSG):
            ab = torch.stack([leaf.signed_distance(b).abs() < 1e-2 * scale(g) for leaf in g._leaves()])
            corners |= ab.sum(dim=0) >= 2
    n = g.boundary_normal(b)
    x = (b - 1e-7 * scale(g) * n)[~corners].requires_grad_(True)
    (grad,) = torch.autograd.grad(g.approx_distance(x).sum(), x)
    assert len(x) > 20
    torch.testing.assert_close(grad, -n[~corners], atol=2e-3, rtol=0)


def test_hard_constraint_use():
    """u = g + phi * N satisfies u = g on the boundary and has finite second derivatives inside."""
    dom = G.Polygon([[0, 0], [2, 0], [2, 1], [1, 0.4], [0, 1]]) - G.Disk([0.5, 0.3], 0.15)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()

    def u(x):
        return 3.0 + dom.approx_distance(x)[:, None] * net(x)

    b = dom.sample_boundary(200, dtype=torch.float64)
    torch.testing.assert_close(u(b), torch.full((200, 1), 3.0, dtype=torch.float64), atol=1e-10, rtol=0)
    x = dom.sample_interior(100, dtype=torch.float64).requires_grad_(True)
    (ux,) = torch.autograd.grad(u(x).sum(), x, create_graph=True)
    (uxx,) = torch.autograd.grad(ux[:, 0].sum(), x)
    assert torch.isfinite(uxx).all()


@pytest.mark.parametrize("name", PRIMITIVES)
def test_measure_and_its_monte_carlo_estimate_agree_with_the_exact_value(name):
    g, exact = PRIMITIVES[name]
    assert g.measure == pytest.approx(exact, rel=1e-12)
    assert g.estimate_measure(2**16, seed=0) == pytest.approx(exact, rel=2e-2 if g.dim >= 4 else 5e-3)


def test_boundary_measures():
    assert G.Rectangle([0, 0], [2, 1.5]).measure == 3.0
    assert G.Disk([0, 0], 2.0).boundary_measure == pytest.approx(4 * math.pi)
    assert G.Sphere([0, 0, 0], 2.0).boundary_measure == pytest.approx(16 * math.pi)
    # Ramanujan's second approximation is accurate to ~1e-10 relative for this eccentricity
    a, b = 3.0, 1.0
    h = ((a - b) / (a + b)) ** 2
    ramanujan = math.pi * (a + b) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))
    assert G.Ellipse([0, 0], a, b).boundary_measure == pytest.approx(ramanujan, rel=1e-6)
    assert G.Polygon([[0, 0], [3, 0], [3, 4]]).boundary_measure == pytest.approx(12.0)


def test_csg_measure_estimates():
    square_minus_disk = G.Rectangle([0, 0], [1, 1]) - G.Disk([0.5, 0.5], 0.25)
    assert square_minus_disk.measure is None
    assert square_minus_disk.estimate_measure() == pytest.approx(1 - math.pi / 16, rel=5e-3)
    union = G.Rectangle([0, 0], [1, 1]) | G.Rectangle([0.5, 0.5], [1.5, 1.5])
    assert union.estimate_measure() == pytest.approx(1.75, rel=5e-3)
    assert (G.Disk([0, 0], 1) * G.TimeDomain(0, 2)).measure == pytest.approx(2 * math.pi)
