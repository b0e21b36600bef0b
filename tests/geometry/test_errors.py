"""Bad input fails at construction with a ValueError that names the argument and what was expected."""

import math

import numpy as np
import pytest
import torch

import pinnkit.geometry as G


@pytest.mark.parametrize("make,match", [
    (lambda: G.Interval(1.0, 1.0), "a < b"),
    (lambda: G.Interval(2.0, 1.0), "a < b"),
    (lambda: G.Interval(0.0, math.inf), "b must be a finite number; got inf"),
    (lambda: G.Interval("a", 1.0), "a must be a finite number; got 'a'"),
    (lambda: G.TimeDomain(1.0, 1.0), "t0 < t1"),
    (lambda: G.Rectangle([0, 0], [1, 0]), "xmin must be < xmax"),
    (lambda: G.Rectangle([0, 0, 0], [1, 1, 1]), "xmin must be a vector of length 2"),
    (lambda: G.Hypercube([0, 0], [1]), "xmax must be a vector of length 2"),
    (lambda: G.Hypercube([], []), "xmin must be a vector"),
    (lambda: G.Disk([0, 0], 0.0), "radius must be a positive finite number; got 0.0"),
    (lambda: G.Disk([0, 0], -1.0), "radius must be a positive finite number; got -1.0"),
    (lambda: G.Sphere([0, 0], 1.0), "center must be a vector of length 3"),
    (lambda: G.Hypersphere([0.0], 1.0), "center must have at least 2"),
    (lambda: G.Ellipse([0, 0], 1.0, 2.0), "semimajor must be >= semiminor"),
    (lambda: G.Ellipse([0, 0], 1.0, 0.0), "semiminor must be a positive finite number; got 0.0"),
    (lambda: G.Polygon([[0, 0], [1, 0]]), "at least 3"),
    (lambda: G.Polygon([[0, 0], [1, 0], [0, 0]]), "at least 3"),
    (lambda: G.Polygon([0, 1, 2]), r"vertices must have shape \(V, 2\); got shape \(3,\)"),
    (lambda: G.Polygon([[0, 0], [1, 0], [2, 0]]), "positive area; they all lie on one line"),
    (lambda: G.Polygon([[0, 0], [1, 1], [1, 0], [0, 1]]), "simple polygon: edge 0"),
    (lambda: G.Polygon([[0, 0], [2, 0], [2, 2], [1, 0], [0, 2]]), "simple polygon"),  # vertex on an edge
    (lambda: G.Polygon([[0, 0], [2, 0], [1, 0], [1, 1]]), "simple polygon"),  # folds back on itself
    (lambda: G.Polygon([[0, 0], [1, 0], [1, 0], [0, 1]]), "repeat a point"),
    (lambda: G.Triangle([0, 0], [1, 1], [2, 2]), "a, b and c must not lie on one line"),
    (lambda: G.Rectangle([0, 0], [1, 1], names=("x", "x")), "names must be 2 distinct"),
    (lambda: G.Rectangle([0, 0], [1, 1]) & G.Rectangle([2, 2], [3, 3]), "intersection .* is empty"),
    (lambda: G.Rectangle([0, 0], [1, 1]) | G.Sphere([0, 0, 0], 1.0), "same dimension"),
    (lambda: G.Rectangle([0, 0], [1, 1]) | G.Rectangle([0, 0], [1, 1], names=("a", "b")), "same coordinate"),
    (lambda: G.Interval(0, 1, names="t") * G.TimeDomain(0, 1), "already a spatial coordinate"),
])
def test_construction_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_type_errors_for_wrong_operands():
    with pytest.raises(TypeError, match="TimeDomain on the right"):
        G.Interval(0, 1) * G.Interval(0, 1)
    with pytest.raises(TypeError, match="then multiply by the TimeDomain"):
        (G.Interval(0, 1) * G.TimeDomain(0, 1)) - G.Interval(0, 1)
    with pytest.raises(TypeError, match="operand b must be a Geometry"):
        G.Interval(0, 1) | 3


@pytest.mark.parametrize("x,match", [
    (torch.zeros(5, 3), r"x must have shape \(N, 2\).*got shape \(5, 3\)"),
    (torch.zeros(2), r"x must have shape \(N, 2\)"),
    (torch.zeros(2, 2, dtype=torch.complex64), "real coordinates"),
    (np.zeros((4, 1)), r"got shape \(4, 1\)"),
])
def test_point_shape_errors(x, match):
    g = G.Disk([0, 0], 1)
    for query in (g.inside, g.on_boundary, g.boundary_normal, g.signed_distance, g.approx_distance):
        with pytest.raises(ValueError, match=match):
            query(x)


def test_points_as_lists_arrays_and_integers_are_accepted():
    g = G.Rectangle([0, 0], [2, 2])
    assert g.inside([[1, 1], [3, 3]]).tolist() == [True, False]
    assert g.on_boundary(np.array([[0.0, 1.0]])).tolist() == [True]


@pytest.mark.parametrize("call,match", [
    (lambda g: g.sample_interior(0), r"n must be an integer in \[1, "),
    (lambda g: g.sample_interior(10.5), "n must be an integer"),
    (lambda g: g.sample_interior(10, "grid"), r"method must be one of \['uniform', 'random', .*\]; got 'grid'"),
    (lambda g: g.sample_boundary(10, method="pseudo"), "method must be one of"),
    (lambda g: g.sample_interior(10, seed="x"), "seed must be"),
    (lambda g: g.sample_interior(10, dtype=torch.int64), "dtype must be a floating-point"),
    (lambda g: g.estimate_measure(0), "n must be an integer"),
])
def test_sampling_argument_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call(G.Disk([0, 0], 1))
