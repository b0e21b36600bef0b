"""Property-based: geometry, CSG, boundary selection and Problem construction with random, partly invalid
arguments. Every outcome is an object that samples (or refuses to sample with a ValueError), or a ValueError /
TypeError whose message names the offending argument; never another exception, a hang or a memory blow-up
(time per example is bounded by hypothesis' deadline, memory by the sampling budgets of pinnkit.geometry).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pinnkit as pk
import pinnkit.geometry as G

SETTINGS = settings(max_examples=25, deadline=30000, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True, database=None)

odd = st.sampled_from([math.nan, math.inf, -math.inf, None, "1", True, 1e308, -1e308, 5e-324, 1e-300, [1.0],
                       np.float32(2.0), np.int64(3), 1 + 2j, torch.tensor(1.0)])
reasonable = st.floats(-10, 10, allow_nan=False, width=64)
number = st.one_of(reasonable, reasonable, reasonable, st.integers(-5, 5), odd)
positive = st.one_of(st.floats(1e-3, 10), st.floats(1e-3, 10), odd, st.floats(-1, 0), st.just(1e-200))
vector = st.one_of(st.lists(number, min_size=0, max_size=4), st.lists(reasonable, min_size=1, max_size=4),
                   st.lists(reasonable, min_size=1, max_size=4), number, st.just("ab"),
                   st.lists(st.lists(reasonable, min_size=2, max_size=2), min_size=1, max_size=2))
names = st.one_of(st.none(), st.none(), st.none(), st.text(max_size=3), st.lists(st.sampled_from(
    ["x", "y", "z", "t", "", "1a", "a b", "u"]), max_size=4), st.integers())


def names_an_argument(err: Exception, arguments: tuple[str, ...]) -> bool:
    message = str(err)
    return any(a in message for a in arguments)


def check_outcome(make, arguments: tuple[str, ...]):
    """``make()`` is an object, or a ValueError / TypeError naming one of ``arguments``."""
    try:
        return make()
    except (ValueError, TypeError) as err:
        assert names_an_argument(err, arguments), f"{type(err).__name__} names none of {arguments}: {err}"
        return None


def check_samples(g: G.Geometry, dtype=torch.float64):
    """A constructed geometry samples: exactly n distinct finite points inside, or a designed ValueError."""
    for sample in (lambda: g.sample_interior(8, seed=0, dtype=dtype),
                   lambda: g.sample_boundary(2 if g.dim == 1 else 8, seed=0, dtype=dtype)):
        try:
            x = sample()
        except ValueError as err:  # the designed refusals: too thin / empty / the dtype cannot hold the points
            assert any(s in str(err) for s in ("seems empty", "too thin", "distinct points", "no boundary piece",
                                               "n must be at most",
                                               "budget")), err
            continue
        assert x.dtype == dtype and x.shape[1] == g.dim and bool(torch.isfinite(x).all())
        assert len(torch.unique(x, dim=0)) == len(x)
        assert bool(g.inside(x).all())  # in the dtype of the points (its own boundary tolerance)


PRIMITIVES = {
    "Interval": (lambda d: G.Interval(d.draw(number), d.draw(number), names=d.draw(names)), ("a", "b", "names")),
    "TimeDomain": (lambda d: G.TimeDomain(d.draw(number), d.draw(number)), ("t0", "t1")),
    "Rectangle": (lambda d: G.Rectangle(d.draw(vector), d.draw(vector), names=d.draw(names)),
                  ("xmin", "xmax", "names")),
    "Cuboid": (lambda d: G.Cuboid(d.draw(vector), d.draw(vector)), ("xmin", "xmax")),
    "Hypercube": (lambda d: G.Hypercube(d.draw(vector), d.draw(vector), names=d.draw(names)),
                  ("xmin", "xmax", "names")),
    "Disk": (lambda d: G.Disk(d.draw(vector), d.draw(positive), names=d.draw(names)), ("center", "radius", "names")),
    "Sphere": (lambda d: G.Sphere(d.draw(vector), d.draw(positive)), ("center", "radius")),
    "Hypersphere": (lambda d: G.Hypersphere(d.draw(vector), d.draw(positive)), ("center", "radius")),
    "Ellipse": (lambda d: G.Ellipse(d.draw(vector), d.draw(positive), d.draw(positive), d.draw(number)),
                ("center", "semimajor", "semiminor", "angle")),
    "Triangle": (lambda d: G.Triangle(d.draw(vector), d.draw(vector), d.draw(vector)), ("a", "b", "c")),
    "Polygon": (lambda d: G.Polygon(d.draw(st.one_of(vector, st.lists(st.lists(number, min_size=2, max_size=2),
                                                                       min_size=0, max_size=6)))), ("vertices",)),
}


@pytest.mark.parametrize("kind", list(PRIMITIVES))
@SETTINGS
@given(data=st.data())
def test_primitive_construction(kind, data):
    make, arguments = PRIMITIVES[kind]
    g = check_outcome(lambda: make(data), arguments)
    if g is not None:
        check_samples(g, data.draw(st.sampled_from([torch.float64, torch.float32])))


POOL = [G.Rectangle([0, 0], [1, 1]), G.Disk([0.5, 0.5], 0.5), G.Disk([3, 3], 0.1), G.Triangle([0, 0], [1, 0], [0, 1]),
        G.Rectangle([0, 0], [1, 1], names=("a", "b")), G.Interval(0, 1), G.Sphere([0, 0, 0], 1),
        G.Disk([0, 0], 1) * G.TimeDomain(0, 1), G.Ellipse([0, 0], 1, 1e-6)]


@SETTINGS
@given(a=st.sampled_from(POOL), b=st.one_of(st.sampled_from(POOL), number), op=st.sampled_from("|&-"),
       c=st.one_of(st.none(), st.sampled_from(POOL)))
def test_csg_construction(a, b, op, c):
    def make():
        g = {"|": a.__or__, "&": a.__and__, "-": a.__sub__}[op](b)
        if g is NotImplemented:
            raise TypeError(f"operand b must be a Geometry; got {type(b).__name__}")
        return g if c is None else g - c

    g = check_outcome(make, ("operand", "intersection", "same dimension", "same coordinate names",
                             "TimeDomain"))
    if g is not None:
        check_samples(g)


def predicate(kind: str):
    return {"upper": lambda x: x[:, 1] > 0.5, "none": lambda x: x[:, 0] > 5, "ints": lambda x: (x[:, 0] > 0).int(),
            "short": lambda x: x[:1, 0] > 0, "all": lambda x: torch.ones(len(x), dtype=torch.bool)}[kind]


selector = st.one_of(st.sampled_from(["left", "right", "top", "bottom", "x_min", "y_max", "front", "", "t"]),
                     st.sampled_from(["upper", "none", "ints", "short", "all"]).map(predicate),
                     st.integers(), st.none())


@SETTINGS
@given(g=st.sampled_from(POOL[:4] + POOL[6:]), selectors=st.lists(selector, min_size=0, max_size=3),
       more=st.lists(selector, min_size=0, max_size=2), n=st.one_of(st.integers(1, 20), number))
def test_boundary_selection(g, selectors, more, n):
    def make():
        part = g.boundary(*selectors)
        return part(*more) if more else part

    part = check_outcome(make, ("face", "selectors", "boundary(...)"))
    if part is None:
        return
    try:
        x = part.sample(n, seed=0)
    except ValueError as err:
        assert any(s in str(err) for s in ("n must", "seems empty", "predicate must return", "distinct points",
                                           "n must be at most", "no boundary piece")), err
        return
    assert len(x) == n and len(torch.unique(x, dim=0)) == n and bool(part.contains(x.double()).all())


outputs = st.one_of(st.just("u"), st.just(("u", "v")), st.text(max_size=3), st.lists(st.sampled_from(
    ["u", "v", "x", "", "1u", "u"]), max_size=3), st.integers(), st.none())
values = st.one_of(reasonable, st.just(math.nan), st.just("zero"), st.just(lambda x: x[:, 0]),
                   st.just(lambda x: x[:, :2]), st.none())


def condition(data):
    rect = POOL[0]
    kind = data.draw(st.sampled_from(["dirichlet", "neumann", "periodic", "initial", "junk"]))
    where = data.draw(st.one_of(st.none(), st.sampled_from(["left", "top", "nowhere"]),
                                st.sampled_from([rect.boundary("left"), POOL[1].boundary,
                                                 rect.boundary(predicate("none"))])))
    n = data.draw(st.one_of(st.integers(1, 16), number))
    out = data.draw(st.one_of(st.none(), st.sampled_from(["u", "v", "w"]), st.integers()))
    if kind == "dirichlet":
        return pk.DirichletBC(where, data.draw(values), output=out, n=n)
    if kind == "neumann":
        return pk.NeumannBC(where, data.draw(values), output=out, n=n)
    if kind == "periodic":
        return pk.PeriodicBC(data.draw(st.sampled_from(["x", "y", "t", 3])), output=out, n=n)
    if kind == "initial":
        return pk.InitialCondition(data.draw(values), output=out, n=n)
    return data.draw(st.sampled_from([3, "bc", None]))


@SETTINGS
@given(data=st.data())
def test_problem_construction(data):
    domain = data.draw(st.sampled_from([POOL[0], POOL[1], POOL[7], "square"]))
    out = data.draw(outputs)

    def make():
        conditions = [condition(data) for _ in range(data.draw(st.integers(0, 3)))]
        params = data.draw(st.one_of(st.none(), st.dictionaries(st.sampled_from(["nu", "k", "x", "u", "", "1a"]),
                                                                number, max_size=2), st.just([1.0]), st.integers()))
        return pk.Problem(domain, lambda f: f.u, outputs=out, conditions=conditions, parameters=params)

    arguments = ("domain", "residual", "outputs", "output", "conditions", "parameters", "value", "where", "n ",
                 "n must", "coordinate", "points", "name", "face", "InitialCondition", "DirichletBC", "NeumannBC",
                 "PeriodicBC")
    problem = check_outcome(make, arguments)
    if problem is not None:
        assert set(problem.terms) and all(isinstance(v, torch.Tensor) for v in problem.sample_conditions(0).values())
