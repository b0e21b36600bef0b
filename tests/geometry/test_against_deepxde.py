"""pinnkit.geometry against an independent implementation: DeepXDE's ``deepxde.geometry``.

For each shared primitive and for a difference, a union and an intersection, in float64:

* at random points of the bounding box enlarged by 20 % that keep clear of the boundary, ``inside`` and
  ``on_boundary`` agree with DeepXDE's;
* at points pinnkit samples on the boundary, both libraries put them on the boundary and inside, and the
  outward normals agree to 1e-8 away from corners, vertices, edges and CSG seams.

DeepXDE's conventions, read from its source (deepxde/geometry/*.py, version 1.15), and how they are handled:

* Its tolerances are ``np.isclose`` defaults (``atol = 1e-8``, ``rtol = 1e-5`` in float64) applied to different
  quantities per class, so its ``on_boundary`` band is much wider than pinnkit's ``64 eps * scale``: up to
  ``1e-5 r`` around a disk and, for polygons, which test ``|x - v_i| + |x - v_(i+1)| ~ |v_i v_(i+1)|``, about
  ``sqrt(1e-5) L / 2 ~ 5e-3`` from the middle of an edge of length ``L = 2``. Off-boundary points are therefore
  kept at least ``max(1e-6, 2 x DeepXDE's band)`` from the boundary (``band`` below, derived per class).
* Its ``inside`` is an exact comparison (``|x - c| <= r``, winding number), so a point on a curved boundary or
  a slanted edge is outside in about one case in four after rounding. On boundary points we compare pinnkit's
  ``inside`` with DeepXDE's ``inside | on_boundary``.
* ``Ellipse(center, semimajor, semiminor, angle)``: a positive DeepXDE angle turns the ellipse clockwise,
  pinnkit's counter-clockwise, so pinnkit's ``angle`` is DeepXDE's ``-angle``. DeepXDE has no
  ``Ellipse.boundary_normal``; the reference normal there is the bisector of the two focal directions
  computed from DeepXDE's foci (reflection property), which checks the angle convention as well.
* DeepXDE sums the (unnormalised) normals of the CSG operands at seams and averages at box vertices only, so
  normals are compared away from seams, vertices and box edges (``corner`` below), where both are the one
  well-defined outward normal of the piece.
* DeepXDE builds its arrays in ``deepxde.config.real`` (float32 by default): the fixture switches it to
  float64 for these tests and back afterwards. Importing DeepXDE may move torch's default device to a GPU;
  the import below puts torch's defaults back.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import pinnkit.geometry as G

os.environ.setdefault("DDE_BACKEND", "pytorch")


def _import_deepxde():
    """``deepxde`` imported quietly (it announces its backend), leaving torch's default dtype and device alone."""
    dtype, device = torch.get_default_dtype(), torch.empty(0).device
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        module = pytest.importorskip("deepxde")
    torch.set_default_dtype(dtype)
    if torch.empty(0).device != device:  # "cpu" would enter a torch-function mode for the rest of the session
        torch.set_default_device(None if device.type == "cpu" else device)
    return module


dde = _import_deepxde()
D = dde.geometry

NONCONVEX = [[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 0.4], [0.0, 1.0]]
N_OFF, N_BOUNDARY = 4000, 400

# DeepXDE calls np.cross on 2-D vectors, deprecated in NumPy 2
pytestmark = pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors are deprecated:DeprecationWarning")


@pytest.fixture(autouse=True)
def deepxde_float64():
    real = dde.config.real
    previous = real.precision
    real.set_float64()
    yield
    {16: real.set_float16, 32: real.set_float32, 64: real.set_float64}[previous]()


def quiet(f: Callable, *args):
    """Call a DeepXDE method with its stdout warnings (e.g. "boundary_normal called on vertices") muted."""
    with contextlib.redirect_stdout(io.StringIO()):
        return np.asarray(f(*args))


# ---------------------------------------------------------------------------------------------- tolerances
def isclose_tol(b: float) -> float:
    """``np.isclose(a, b)`` accepts ``|a - b| <= 1e-8 + 1e-5 |b|``."""
    return 1e-8 + 1e-5 * abs(b)


def segment_band(length: float, tol: float) -> float:
    """Largest distance from a segment at which ``|x - p| + |x - q| - length <= tol`` (at the midpoint)."""
    return math.sqrt(tol * (2 * length + tol)) / 2


def box_band(lo, hi) -> float:
    return max(isclose_tol(v) for v in [*lo, *hi])


def polygon_band(vertices) -> float:
    v = np.asarray(vertices, dtype=np.float64)
    lengths = np.linalg.norm(np.roll(v, -1, axis=0) - v, axis=1)
    return max(segment_band(length, isclose_tol(length)) for length in lengths)


def triangle_band(vertices) -> float:
    v = np.asarray(vertices, dtype=np.float64)
    lengths = np.linalg.norm(np.roll(v, -1, axis=0) - v, axis=1)
    return max(segment_band(length, 1e-8) for length in lengths)  # DeepXDE compares the excess with 0


def ellipse_band(a: float, b: float) -> float:
    # isclose(d1 + d2, 2a); |grad(d1 + d2)| >= 2b/a (at the ends of the minor axis)
    return isclose_tol(2 * a) * a / (2 * b)


# ------------------------------------------------------------------------- corners, vertices, edges, seams
def _face_gaps(x: np.ndarray, lo, hi) -> np.ndarray:
    """Per coordinate, the distance to the nearer of the two face planes of the box; sorted, (N, d)."""
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    return np.sort(np.minimum(np.abs(x - lo), np.abs(x - hi)), axis=1)


def box_corner(lo, hi):
    """Distance of boundary points to where two faces meet (corners in 2-D, edges and ridges beyond): the
    second smallest gap to a face plane (the smallest is ~0 on the boundary)."""
    if len(lo) == 1:
        return lambda x: np.full(len(x), np.inf)
    return lambda x: _face_gaps(x, lo, hi)[:, 1]


def vertex_corner(vertices):
    v = np.asarray(vertices, dtype=np.float64)
    return lambda x: np.linalg.norm(x[:, None, :] - v[None], axis=-1).min(axis=1)


def smooth(x: np.ndarray) -> np.ndarray:
    return np.full(len(x), np.inf)


@dataclass
class Case:
    """A pinnkit geometry, a factory for the same DeepXDE geometry (built after the float64 switch), the
    half-width of the band kept clear of the boundary, a function giving each boundary point's distance to
    non-smooth places (corners, vertices, edges, seams), and the reference normal (None: DeepXDE's)."""

    pinn: G.Geometry
    deepxde: Callable
    band: float
    corner: Callable[[np.ndarray], np.ndarray] = smooth
    reference_normal: Callable | None = None


def primitive_case(pinn, deepxde, dde_band, corner=smooth, reference_normal=None) -> Case:
    return Case(pinn, deepxde, max(1e-6, 2 * dde_band), corner, reference_normal)


def csg_case(pinn: G.CSG, deepxde, a: Case, b: Case) -> Case:
    """Seams: boundary points close to both operands' boundaries; plus each operand's own corners."""

    def corner(x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(x)
        seam = np.maximum(pinn.a.signed_distance(t).abs().numpy(), pinn.b.signed_distance(t).abs().numpy())
        return np.minimum(seam, np.minimum(a.corner(x), b.corner(x)))

    return Case(pinn, deepxde, max(a.band, b.band), corner)


def focal_normal(geometry) -> np.ndarray:
    """Unit outward normal of an ellipse from its foci: the bisector of the two focal unit vectors."""

    def normal(x: np.ndarray) -> np.ndarray:
        u1, u2 = x - geometry.focus1, x - geometry.focus2
        n = u1 / np.linalg.norm(u1, axis=1, keepdims=True) + u2 / np.linalg.norm(u2, axis=1, keepdims=True)
        return n / np.linalg.norm(n, axis=1, keepdims=True)

    return normal


def make_cases() -> dict[str, Case]:
    rect_lo, rect_hi = [-1.0, 0.5], [2.0, 1.5]
    cub_lo, cub_hi = [0.0, -1.0, 0.5], [1.0, 1.0, 2.0]
    hc_lo, hc_hi = [0.0, -1.0, 0.0, 0.5], [1.0, 1.0, 2.0, 1.0]
    tri = [[0.0, 0.0], [2.0, 0.5], [0.5, 1.5]]
    cases = {
        "interval": primitive_case(G.Interval(-1.0, 2.0), lambda: D.Interval(-1.0, 2.0), box_band([-1.0], [2.0]),
                                   box_corner([-1.0], [2.0])),
        "rectangle": primitive_case(G.Rectangle(rect_lo, rect_hi), lambda: D.Rectangle(rect_lo, rect_hi),
                                    box_band(rect_lo, rect_hi), box_corner(rect_lo, rect_hi)),
        "disk": primitive_case(G.Disk([0.3, -0.2], 1.5), lambda: D.Disk([0.3, -0.2], 1.5), isclose_tol(1.5)),
        # DeepXDE's angle turns clockwise: -0.6 there is +0.6 here
        "ellipse": primitive_case(G.Ellipse([0.5, -0.5], 2.0, 0.75, 0.6),
                                  lambda: D.Ellipse([0.5, -0.5], 2.0, 0.75, -0.6), ellipse_band(2.0, 0.75),
                                  reference_normal=focal_normal),
        "triangle": primitive_case(G.Triangle(*tri), lambda: D.Triangle(*tri), triangle_band(tri),
                                   vertex_corner(tri)),
        "polygon": primitive_case(G.Polygon(NONCONVEX), lambda: D.Polygon(NONCONVEX), polygon_band(NONCONVEX),
                                  vertex_corner(NONCONVEX)),
        "cuboid": primitive_case(G.Cuboid(cub_lo, cub_hi), lambda: D.Cuboid(cub_lo, cub_hi),
                                 box_band(cub_lo, cub_hi), box_corner(cub_lo, cub_hi)),
        "sphere": primitive_case(G.Sphere([0.1, 0.2, -0.3], 0.8), lambda: D.Sphere([0.1, 0.2, -0.3], 0.8),
                                 isclose_tol(0.8)),
        "hypercube4": primitive_case(G.Hypercube(hc_lo, hc_hi), lambda: D.Hypercube(hc_lo, hc_hi),
                                     box_band(hc_lo, hc_hi), box_corner(hc_lo, hc_hi)),
        "hypersphere4": primitive_case(G.Hypersphere([0.1, 0.0, -0.2, 0.3], 1.2),
                                       lambda: D.Hypersphere([0.1, 0.0, -0.2, 0.3], 1.2), isclose_tol(1.2)),
    }
    # CSG operands: a disk biting into a rectangle's edge (seams on the edge), a cube with a ball on its
    # corner (seams on three faces), the non-convex polygon cut by a disk (seams on four edges).
    sq = primitive_case(G.Rectangle([0.0, 0.0], [2.0, 1.0]), None, box_band([0.0, 0.0], [2.0, 1.0]),
                        box_corner([0.0, 0.0], [2.0, 1.0]))
    bite = primitive_case(G.Disk([2.0, 0.5], 0.3), None, isclose_tol(0.3))
    cube = primitive_case(G.Cuboid([0.0] * 3, [1.0] * 3), None, box_band([0.0] * 3, [1.0] * 3),
                          box_corner([0.0] * 3, [1.0] * 3))
    ball = primitive_case(G.Sphere([1.0, 1.0, 1.0], 0.5), None, isclose_tol(0.5))
    poly = cases["polygon"]
    lens = primitive_case(G.Disk([1.0, 0.5], 0.8), None, isclose_tol(0.8))
    cases["difference"] = csg_case(
        sq.pinn - bite.pinn, lambda: D.Rectangle([0.0, 0.0], [2.0, 1.0]) - D.Disk([2.0, 0.5], 0.3), sq, bite)
    cases["union"] = csg_case(
        cube.pinn | ball.pinn, lambda: D.Cuboid([0.0] * 3, [1.0] * 3) | D.Sphere([1.0, 1.0, 1.0], 0.5), cube, ball)
    cases["intersection"] = csg_case(
        poly.pinn & lens.pinn, lambda: D.Polygon(NONCONVEX) & D.Disk([1.0, 0.5], 0.8), poly, lens)
    return cases


CASES = make_cases()


def off_boundary_points(case: Case, seed: int) -> np.ndarray:
    """Uniform points of the bounding box enlarged by 20 % (10 % each side) farther than ``band`` from the
    boundary according to pinnkit's signed distance (a lower bound of the true distance for CSG)."""
    lo, hi = case.pinn.bbox.numpy()
    centre, half = (lo + hi) / 2, 0.6 * (hi - lo)
    x = centre + (2 * np.random.default_rng(seed).random((N_OFF, case.pinn.dim)) - 1) * half
    return x[case.pinn.signed_distance(torch.from_numpy(x)).abs().numpy() >= case.band]


def deepxde_geometry(name: str):
    """DeepXDE's geometry of a case, skipped where DeepXDE itself fails under the installed numpy: its 2-D
    ``Triangle`` calls ``np.cross`` on 2-vectors, which newer numpy releases reject."""
    geometry = CASES[name].deepxde()
    centre = CASES[name].pinn.bbox.numpy().mean(axis=0, keepdims=True)
    try:
        quiet(geometry.inside, centre)
    except ValueError as err:
        if "3-dimensional vectors" not in str(err):
            raise
        pytest.skip(f"DeepXDE's {name} fails under numpy {np.__version__}: {err}")
    return geometry


@pytest.mark.parametrize("name", CASES)
def test_membership_off_the_boundary(name):
    case, geometry = CASES[name], deepxde_geometry(name)
    x = off_boundary_points(case, seed=sum(map(ord, name)))
    assert len(x) > 0.9 * N_OFF
    t = torch.from_numpy(x)
    inside, theirs = case.pinn.inside(t).numpy(), quiet(geometry.inside, x)
    assert 0.1 < inside.mean() < 0.9  # both classes well represented
    np.testing.assert_array_equal(inside, theirs)
    np.testing.assert_array_equal(case.pinn.on_boundary(t).numpy(), quiet(geometry.on_boundary, x))
    assert not case.pinn.on_boundary(t).any()


@pytest.mark.parametrize("name", CASES)
def test_boundary_points_and_normals(name):
    case, geometry = CASES[name], deepxde_geometry(name)
    n = 2 if case.pinn.dim == 1 else N_BOUNDARY
    x = case.pinn.sample_boundary(n, "sobol", seed=7, dtype=torch.float64)
    xn = x.numpy()
    assert case.pinn.on_boundary(x).all() and case.pinn.inside(x).all()
    assert quiet(geometry.on_boundary, xn).all()
    # DeepXDE's inside is exact, so rounding puts some boundary points just outside it; within its own band
    # they are on the boundary, i.e. in the closed domain, as pinnkit says
    np.testing.assert_array_equal(case.pinn.inside(x).numpy(),
                                  quiet(geometry.inside, xn) | quiet(geometry.on_boundary, xn))

    keep = case.corner(xn) >= max(1e-3, case.band)
    assert keep.mean() > 0.5
    ours = case.pinn.boundary_normal(x).numpy()[keep]
    if case.reference_normal is None:
        theirs = quiet(geometry.boundary_normal, xn[keep]).reshape(ours.shape)
    else:
        theirs = case.reference_normal(geometry)(xn[keep])
    np.testing.assert_allclose(np.linalg.norm(theirs, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-8)


def test_ellipse_normal_convention_matches_deepxde_foci():
    """The reference for the ellipse is DeepXDE's foci: they lie on pinnkit's major axis, at +-c from the
    centre, c^2 = a^2 - b^2."""
    geometry = D.Ellipse([0.5, -0.5], 2.0, 0.75, -0.6)
    c = math.sqrt(2.0**2 - 0.75**2)
    axis = np.array([math.cos(0.6), math.sin(0.6)])
    foci = sorted([tuple(geometry.focus1), tuple(geometry.focus2)])
    expected = sorted([tuple(np.array([0.5, -0.5]) + s * c * axis) for s in (-1, 1)])
    np.testing.assert_allclose(foci, expected, atol=1e-14)
    pinn = CASES["ellipse"].pinn
    tips = torch.tensor(np.array([[0.5, -0.5] + 2.0 * axis, [0.5, -0.5] - 2.0 * axis]))
    assert pinn.on_boundary(tips).all() and quiet(geometry.on_boundary, tips.numpy()).all()
    np.testing.assert_allclose(pinn.boundary_normal(tips).numpy(), [axis, -axis], atol=1e-12)


def test_box_vertices_and_edges_get_the_normalised_sum_in_both():
    """Where faces meet, DeepXDE's Hypercube also normalises the sum of the face normals (polygon vertices and
    CSG seams differ by convention and are left out above)."""
    lo, hi = [0.0, -1.0, 0.5], [1.0, 1.0, 2.0]
    x = np.array([[1.0, 1.0, 2.0], [0.0, -1.0, 0.5], [1.0, 0.0, 2.0], [0.5, -1.0, 0.5], [0.0, 0.3, 1.0]])
    ours = G.Cuboid(lo, hi).boundary_normal(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, quiet(D.Cuboid(lo, hi).boundary_normal, x), rtol=0, atol=1e-15)
    s2, s3 = 1 / math.sqrt(2), 1 / math.sqrt(3)
    np.testing.assert_allclose(ours, [[s3, s3, s3], [-s3, -s3, -s3], [s2, 0, s2], [0, -s2, -s2], [-1, 0, 0]],
                               rtol=0, atol=1e-15)


def test_hammersley_interior_of_a_difference_has_no_duplicates_unlike_deepxde():
    """DeepXDE's ``CSGDifference.random_points`` draws ``geom1.random_points(n)`` again after filtering; with a
    deterministic sequence it gets the same points each round, so the second round only repeats the first."""
    pinn = G.Rectangle([0.0, 0.0], [1.0, 1.0]) - G.Disk([0.5, 0.5], 0.25)
    ours = pinn.sample_interior(1000, "hammersley", dtype=torch.float64)
    assert len(torch.unique(ours, dim=0)) == 1000
    assert pinn.inside(ours).all() and not pinn.on_boundary(ours).any()

    geometry = D.Rectangle([0.0, 0.0], [1.0, 1.0]) - D.Disk([0.5, 0.5], 0.25)
    theirs = quiet(geometry.random_points, 1000, "Hammersley")
    assert theirs.shape == (1000, 2)
    assert quiet(geometry.inside, ours.numpy()).all()
    unique = len(np.unique(theirs, axis=0))
    assert unique < 1000  # 802 with DeepXDE 1.15
    # the unique points are those of one round: the 1000 Hammersley points outside the disk, about
    # 1000 (1 - pi / 16)
    assert abs(unique - 1000 * (1 - math.pi / 16)) <= 5
