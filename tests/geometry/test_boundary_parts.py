"""Parts of a boundary chosen by face name or predicate."""

import math

import pytest
import torch

import pinnkit.geometry as G


def test_named_faces_of_a_rectangle():
    r = G.Rectangle([0, -1], [2, 1])
    for name, (axis, value) in {"left": (0, 0.0), "right": (0, 2.0), "bottom": (1, -1.0), "top": (1, 1.0),
                                "x_min": (0, 0.0), "y_max": (1, 1.0)}.items():
        x = r.boundary(name).sample(50, "random", seed=0, dtype=torch.float64)
        assert torch.all(x[:, axis] == value) and len(torch.unique(x, dim=0)) == 50
        assert r.boundary(name).contains(x).all() and r.on_boundary(x).all()
    both = r.boundary("left", "top").sample(90, "uniform", dtype=torch.float64)
    assert (both[:, 0] == 0).sum().item() == 45 and (both[:, 1] == 1).sum().item() == 45  # equal lengths


def test_contains_rejects_other_faces_and_interior():
    r = G.Rectangle([0, 0], [1, 1])
    x = torch.tensor([[0.0, 0.5], [1.0, 0.5], [0.5, 0.5], [0.5, 0.0]], dtype=torch.float64)
    assert r.boundary("left").contains(x).tolist() == [True, False, False, False]
    assert r.boundary.contains(x).tolist() == [True, True, False, True]


def test_predicate_parts_and_their_uniformity():
    d = G.Disk([0, 0], 1.0)
    upper = d.boundary(lambda x: x[:, 1] > 0)
    x = upper.sample(400, "sobol", seed=1, dtype=torch.float64)
    assert torch.all(x[:, 1] > 0) and d.on_boundary(x).all()
    angle = torch.atan2(x[:, 1], x[:, 0])
    assert abs((angle < math.pi / 2).double().mean().item() - 0.5) < 0.02  # uniform along the half circle
    part = G.Rectangle([0, 0], [1, 1]).boundary("x_max", lambda x: x[:, 1] < 0.25)
    y = part.sample(30, seed=0, dtype=torch.float64)
    assert torch.all((y[:, 0] == 1) & (y[:, 1] < 0.25))


def test_space_time_faces_are_spatial():
    d = G.Interval(-1, 1) * G.TimeDomain(0, 1)
    x = d.boundary("right").sample(20, seed=0, dtype=torch.float64)
    assert torch.all(x[:, 0] == 1) and torch.all((x[:, 1] > 0) & (x[:, 1] < 1))
    assert d.boundary("left").label == "x_min"
    assert G.Interval(0, 1).boundary("right").sample(1).tolist() == [[1.0]]


def test_bad_selections():
    with pytest.raises(ValueError, match="no named faces"):
        G.Disk([0, 0], 1).boundary("left")
    with pytest.raises(ValueError, match=r"unknown face 'north'.*\['bottom', 'left'"):
        G.Rectangle([0, 0], [1, 1]).boundary("north")
    with pytest.raises(ValueError, match="must return \\(N,\\) booleans"):
        G.Disk([0, 0], 1).boundary(lambda x: x[:, 0]).sample(5)
    with pytest.raises(ValueError, match="at least one"):
        G.Disk([0, 0], 1).boundary()
