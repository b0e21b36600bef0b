"""Conditions and Problem against closed forms: each residual is computed on a known function."""

import math

import numpy as np
import pytest
import torch

import pinnkit as pk
import pinnkit.geometry as G
from pinnkit.pde import Problem


class Exact(torch.nn.Module):
    """u = sin(x) * exp(y) (+ t), v = x * y: derivatives known in closed form."""

    def forward(self, x):
        u = torch.sin(x[:, 0]) * torch.exp(x[:, 1])
        if x.shape[1] == 3:
            u = u + x[:, 2] ** 2
        return torch.stack([u, x[:, 0] * x[:, 1]], dim=1)


def residuals(problem, backend="autograd"):
    points = problem.domain.sample_interior(20, seed=0, dtype=torch.float64)
    batch = problem.batch(points, problem.sample_conditions(0), dtype=torch.float64)
    return batch, problem.evaluator(Exact(), backend).residuals(batch)


def laplace_free(f):
    return f.u_xx + f.u_yy  # sin x e^y is harmonic: zero residual


@pytest.mark.parametrize("backend", ["autograd", "zcs"])
def test_dirichlet_neumann_robin_on_named_faces(backend):
    rect = G.Rectangle([0, 0], [1, 2])

    def u(p):
        return torch.sin(p[:, 0]) * torch.exp(p[:, 1])

    problem = Problem(rect, laplace_free, outputs=("u", "v"), conditions=[
        pk.DirichletBC("left", 0.0, output="u", n=16),                             # sin(0) = 0
        pk.DirichletBC(rect.boundary("top"), u, output="u", n=16),                  # u itself
        pk.NeumannBC("right", lambda p: math.cos(1.0) * torch.exp(p[:, 1]), output="u", n=16),  # u_x at x=1
        pk.NeumannBC("bottom", lambda p: -torch.sin(p[:, 0]), output="u", n=16),    # -u_y at y=0
        pk.RobinBC("top", alpha=2.0, beta=1.0, value=lambda p: 3 * u(p), output="u", n=16),  # 2u + u_y = 3u
        pk.DirichletBC(lambda p: p[:, 0] > 0.5, lambda p: p[:, 0] * p[:, 1], output="v", n=16),
    ])
    _, r = residuals(problem, backend)
    assert set(r) == {"pde", "dirichlet_u_x_min", "dirichlet_u_y_max", "neumann_u_x_max", "neumann_u_y_min",
                      "robin_u_y_max", "dirichlet_v_boundary"}
    for name, value in r.items():
        assert value.abs().max() < 1e-12, name


def test_wrong_values_give_nonzero_residuals():
    rect = G.Rectangle([0, 0], [1, 2])
    problem = Problem(rect, laplace_free, outputs=("u", "v"), conditions=[
        pk.NeumannBC("right", 0.0, output="u", n=8)])
    _, r = residuals(problem)
    expected = math.cos(1.0) * torch.exp(problem.sample_conditions(0)["neumann_u_x_max"][:, 1])
    torch.testing.assert_close(r["neumann_u_x_max"], expected)


def test_initial_value_and_velocity_on_space_time():
    domain = G.Rectangle([0, 0], [1, 1]) * G.TimeDomain(0.5, 1)
    problem = Problem(domain, lambda f: f.u_t - 2 * f.t, outputs=("u", "v"), conditions=[
        pk.InitialCondition(lambda p: torch.sin(p[:, 0]) * torch.exp(p[:, 1]) + 0.25, output="u", n=16),
        pk.InitialCondition(1.0, output="u", derivative=1, n=16),  # u_t = 2t = 1 at t0 = 0.5
    ])
    _, r = residuals(problem)
    assert r["initial_u"].abs().max() < 1e-12 and r["initial_u_t"].abs().max() < 1e-12
    assert r["pde"].abs().max() < 1e-12


def test_periodic_pairs_and_derivative_orders():
    domain = G.Interval(0, 2 * math.pi) * G.TimeDomain(0, 1)

    class Wave(torch.nn.Module):
        def forward(self, x):
            return (torch.sin(x[:, :1] - x[:, 1:]) + 0.1 * x[:, :1])  # periodic up to a linear drift

    problem = Problem(domain, lambda f: f.u_t + f.u_x - 0.1, outputs="u", conditions=[
        pk.PeriodicBC("x", orders=(0, 1, 2), n=10)])
    batch = problem.batch(domain.sample_interior(5, seed=0, dtype=torch.float64), problem.sample_conditions(0))
    r = problem.evaluator(Wave()).residuals(batch)
    assert r["periodic_u_x"].shape == (10, 3)
    torch.testing.assert_close(r["periodic_u_x"][:, 0], torch.full((10,), -0.2 * math.pi, dtype=torch.float64))
    assert r["periodic_u_x"][:, 1:].abs().max() < 1e-12  # derivatives are exactly periodic
    assert r["pde"].abs().max() < 1e-12


def test_observed_data_and_parameters():
    domain = G.Rectangle([0, 0], [1, 1])
    pts = torch.rand(7, 2, dtype=torch.float64)
    values = torch.stack([torch.sin(pts[:, 0]) * torch.exp(pts[:, 1]), pts[:, 0] * pts[:, 1]], dim=1)
    problem = Problem(domain, lambda f: f.k * (f.u_xx + f.u_yy), outputs=("u", "v"), parameters={"k": 2.0},
                      conditions=[pk.ObservedData(pts, values), pk.ObservedData(pts.numpy(), values[:, 1:].numpy(),
                                                                                  outputs="v")])
    _, r = residuals(problem)
    assert r["data"].shape == (7, 2) and r["data"].abs().max() < 1e-12
    assert r["data_2"].shape == (7, 1) and r["data_2"].abs().max() < 1e-12
    assert list(problem.parameters) == ["k"] and problem.parameters["k"] == 2.0


def test_value_arrays_need_their_points():
    rect = G.Rectangle([0, 0], [1, 1])
    pts = np.array([[0.0, 0.2], [0.0, 0.7]])
    problem = Problem(rect, laplace_free, outputs=("u", "v"), conditions=[
        pk.DirichletBC(None, np.array([0.0, 0.0]), output="u", points=pts)])
    _, r = residuals(problem)
    assert r["dirichlet_u_boundary"].abs().max() < 1e-12
    with pytest.raises(ValueError, match="needs the points"):
        pk.DirichletBC(None, np.zeros(3))


@pytest.mark.parametrize("make,match", [
    (lambda d: Problem(d, laplace_free, "u", [pk.DirichletBC("left", 0.0, output="w")]), "unknown output 'w'"),
    (lambda d: Problem(d, laplace_free, ("u", "v"), [pk.DirichletBC("left", 0.0)]), "output must be named"),
    (lambda d: Problem(d, laplace_free, "u", [pk.InitialCondition(0.0)]),
     r"InitialCondition needs a time: a TimeDomain \(an ODE\) or a space-time domain"),
    (lambda d: Problem(d, laplace_free, "u", [pk.DirichletBC("north", 0.0)]), "unknown face 'north'"),
    (lambda d: Problem(d, laplace_free, "u", [pk.DirichletBC(G.Disk([0, 0], 1).boundary, 0.0)]),
     "belongs to another geometry"),
    (lambda d: Problem(d, laplace_free, "u", [pk.PeriodicBC("z")]), "coordinate must be one of"),
    (lambda d: Problem(d, laplace_free, "u", [pk.DirichletBC("left", lambda p: p)]), r"got shape \(256, 2\)"),
    (lambda d: Problem(d, lambda f: f.u_zz, "u"), "name the problem does not have.*u_zz"),
    (lambda d: Problem(d, lambda f: f.u_xx, "u", parameters={"x": 1.0}), "distinct"),
    (lambda d: Problem(d, lambda f: f.u_xx, "u", [object()]), "pinnkit conditions"),
    (lambda d: Problem(d, lambda f: 3.0, "u"), "must return a tensor"),
    (lambda d: Problem("domain", lambda f: f.u, "u"), "Geometry"),
])
def test_problem_errors_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make(G.Rectangle([0, 0], [1, 1]))


def test_several_pde_terms_are_named():
    rect = G.Rectangle([0, 0], [1, 1])
    assert Problem(rect, lambda f: (f.u_xx, f.v_y), ("u", "v")).pde_terms == ("pde1", "pde2")
    assert Problem(rect, lambda f: {"momentum": f.u_x, "mass": f.v}, ("u", "v")).pde_terms == ("momentum", "mass")



def snapshot(condition) -> dict:
    """``vars(condition)`` with tensors cloned, so that in-place changes show too."""
    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in vars(condition).items()}


def assert_unchanged(condition, before: dict):
    after = vars(condition)
    assert after.keys() == before.keys(), type(condition).__name__
    for key, value in before.items():
        same = torch.equal(after[key], value) if isinstance(value, torch.Tensor) else after[key] == value
        assert same, f"{type(condition).__name__}.{key} changed: {value!r} -> {after[key]!r}"


def test_one_condition_in_two_problems_is_bound_twice_and_left_unchanged():
    rect, disk = G.Rectangle([0, 0], [1, 2]), G.Disk([0.0, 0.0], 1.0)
    wall = pk.DirichletBC(value=0.0, output="u", n=16)
    data = pk.ObservedData([[0.5, 0.5], [0.2, 0.1]], [[1.0], [3.0]])  # the first output of each problem
    start = pk.InitialCondition(1.0, n=8)
    given = [(c, snapshot(c)) for c in (wall, data, start)]

    first = Problem(rect, laplace_free, "u", [wall, data, wall])
    second = Problem(disk, laplace_free, ("v", "u"), [data, wall])
    line = Problem(G.Interval(0, 1) * G.TimeDomain(0, 2), lambda f: f.u_t - f.u_xx, "u", [start])
    plane = Problem(rect * G.TimeDomain(0, 1, name="s"), lambda f: f.u_s - f.u_xx, "u", [start])
    for c, before in given:
        assert_unchanged(c, before)
    assert wall.name is None and wall.where is None and data.output is None and data.data_outputs is None
    assert not hasattr(start, "time_name")

    w1, d1, w2 = first.conditions
    d2, w3 = second.conditions
    assert len({id(c) for c in (wall, w1, w2, w3)}) == 4 and len({id(c) for c in (data, d1, d2)}) == 3
    assert (w1.where.geometry, w2.where.geometry, w3.where.geometry) == (rect, rect, disk)
    assert (w1.output_index, w3.output_index) == (0, 1)
    assert (d1.data_outputs, d1.output, d2.data_outputs, d2.output) == (("u",), "u", ("v",), "v")
    base = w1.default_name()
    assert first.terms == ("pde", base, "data", f"{base}_2") and second.terms == ("pde", "data", w3.default_name())
    assert w1.points is None and d1.points is data.points  # the copies share what was given
    (s1,), (s2,) = line.conditions, plane.conditions
    assert (s1.time_name, s2.time_name) == ("t", "s")

    # a time window binds copies of the problem's bound conditions, and leaves those unchanged too
    bound = [(c, snapshot(c)) for c in line.conditions]
    window = line.time_window(0.0, 1.0)
    (s3,) = window.conditions
    for c, before in bound:
        assert_unchanged(c, before)
    assert s3 is not s1 and s3.name == s1.name and window.terms == line.terms


def test_a_problem_beyond_sobols_dimensions_builds_and_evaluates():
    """The probes at construction (terms, net check) draw pseudo-random points where Sobol' cannot (d > 21201)."""
    d = 25_000
    box = G.Hypercube(np.zeros(d), np.ones(d))
    problem = Problem(box, lambda f: f.u_x1 - 1.0, outputs=("u",))

    class Linear(torch.nn.Module):
        def forward(self, x):
            return x[:, :1] + 0.0 * x[:, 1:].sum(dim=1, keepdim=True)

    points = box.sample_interior(4, "random", seed=0, dtype=torch.float64)
    batch = problem.batch(points, problem.sample_conditions(0), dtype=torch.float64)
    residual = problem.evaluator(Linear(), "autograd").residuals(batch)["pde"]
    torch.testing.assert_close(residual, torch.zeros_like(residual), rtol=0, atol=1e-12)
