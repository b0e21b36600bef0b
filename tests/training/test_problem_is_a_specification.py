"""A problem is a fixed specification: training changes the trainer's state, never the problem's, and building a
problem never changes the conditions it was given."""

import copy
import math
import types
from collections.abc import Mapping

import pytest
import torch

import pinnkit as pk
from pinnkit.pde import Specification


def described(obj, seen=None):
    """Everything ``obj`` holds, as comparable plain values: tensors by value, containers and objects by their
    contents, functions and objects without attributes by identity."""
    seen = set() if seen is None else seen
    if isinstance(obj, torch.Tensor):
        return ("tensor", obj.dtype, tuple(obj.shape), obj.detach().cpu().double().flatten().tolist())
    if isinstance(obj, (int, float, str, bool, type(None))):
        return obj
    if isinstance(obj, (list, tuple)):
        return tuple(described(v, seen) for v in obj)
    if isinstance(obj, Mapping):
        return tuple(sorted((str(k), described(v, seen)) for k, v in obj.items()))
    if isinstance(obj, (set, frozenset)):
        return ("set", tuple(sorted(map(repr, obj))))
    if isinstance(obj, (types.FunctionType, types.MethodType)) or not hasattr(obj, "__dict__"):
        return ("identity", id(obj))
    if id(obj) in seen:
        return ("seen", id(obj))
    seen.add(id(obj))
    return (type(obj).__name__, tuple(sorted((k, described(v, seen)) for k, v in vars(obj).items())))


def inverse_problem():
    """u' = k u on [0, 1] with u(0) = 1 and observations of exp(2x): k is trainable, from 0.5."""
    domain = pk.geometry.Interval(0, 1)
    x = torch.linspace(0, 1, 12, dtype=torch.float64)[:, None]
    conditions = [pk.DirichletBC("x_min", 1.0, n=1), pk.ObservedData(x, torch.exp(2 * x)),
                  pk.NeumannBC("x_max", lambda p: 2 * torch.exp(2 * p[:, 0]), n=1)]
    return pk.Problem(domain, lambda f: f.u_x - f.k * f.u, parameters={"k": 0.5}, conditions=conditions), conditions


def test_training_leaves_the_problem_as_it_was():
    problem, _ = inverse_problem()
    before = described(problem)
    torch.manual_seed(0)
    trainer = pk.Trainer(problem, pk.nets.MLP(1, 1, width=8, depth=2), backend="taylor", dtype=torch.float64,
                         sampler=pk.sampling.R3(40), lr=1e-2)
    trainer.fit(30, progress=False)
    trainer.fit(10, optimizer="lbfgs", progress=False)
    assert trainer.parameter_values()["k"] != 0.5  # the trainer trained its own copy ...
    assert described(problem) == before  # ... and the problem is exactly as built
    assert problem.parameters == {"k": 0.5}


def test_one_problem_serves_two_trainers_in_two_precisions_at_once():
    problem, _ = inverse_problem()
    torch.manual_seed(0)
    net = pk.nets.MLP(1, 1, width=8, depth=2)
    single = pk.Trainer(problem, copy.deepcopy(net), dtype=torch.float32, lr=1e-2)
    double = pk.Trainer(problem, copy.deepcopy(net), dtype=torch.float64, lr=1e-2)
    assert single.parameters["k"].dtype == torch.float32 and double.parameters["k"].dtype == torch.float64
    assert double.parameter_values()["k"] == 0.5  # exactly the value given, in float64
    single.fit(20, progress=False)
    k_single = single.parameter_values()["k"]
    double.fit(20, progress=False)
    assert single.parameter_values()["k"] == k_single  # training one does not move the other
    assert double.parameter_values()["k"] == pytest.approx(k_single, rel=1e-4)
    assert double.parameter_values()["k"] != k_single


def test_the_problem_parameters_are_read_only_floats():
    problem, _ = inverse_problem()
    assert isinstance(problem.parameters["k"], float)
    with pytest.raises(TypeError):
        problem.parameters["k"] = 1.0


def test_building_a_problem_leaves_its_conditions_untouched():
    domain = pk.geometry.Rectangle((0, 0), (1, 1)) * pk.geometry.TimeDomain(0, 1)
    conditions = [pk.DirichletBC(output="u"), pk.DirichletBC("x_min", 1.0, output="v", name="left"),
                  pk.NeumannBC(lambda p: p[:, 1] > 0.5, output="u"), pk.InitialCondition(0.0, output="u"),
                  pk.PeriodicBC("x", output="v"), pk.ObservedData(torch.rand(5, 3), torch.rand(5, 2))]
    before = [described(c) for c in conditions]
    problem = pk.Problem(domain, lambda f: (f.u_t - f.u_xx, f.v_t - f.v_yy), outputs=("u", "v"),
                         conditions=[conditions[3], conditions[3], *conditions[:3], *conditions[4:]])
    assert [described(c) for c in conditions] == before
    assert all(c.name is None for c in conditions if c is not conditions[1])
    assert problem.terms == ("pde1", "pde2", "initial_u", "initial_u_2", "dirichlet_u_boundary", "left",
                             "neumann_u_boundary", "periodic_v_x", "data")
    assert not any(bound is given for bound in problem.conditions for given in conditions)
    pk.Problem(domain, lambda f: f.u_t, outputs=("u", "v"), conditions=conditions[:2])  # the same objects again


def test_an_operator_problem_holds_a_specification_instead_of_being_a_problem():
    space = pk.functions.GaussianRandomField(length_scale=0.2, interval=(0, 1))
    problem = pk.OperatorProblem(pk.geometry.Interval(0, 1), lambda f: f.u_x - f.v, space, torch.linspace(0, 1, 8),
                                 conditions=[pk.DirichletBC("x_min", 0.0, n=1)])
    assert not isinstance(problem, pk.Problem)
    assert isinstance(problem.specification, Specification)
    assert problem.terms == problem.specification.terms == ("pde", "dirichlet_u_x_min")
    with pytest.raises(TypeError, match="OperatorTrainer"):
        pk.Trainer(problem, pk.nets.MLP(1, 1))


def test_a_time_window_starts_from_given_parameter_values():
    domain = pk.geometry.Interval(0, 1) * pk.geometry.TimeDomain(0, 2)
    problem = pk.Problem(domain, lambda f: f.u_t - f.nu * f.u_xx, parameters={"nu": 0.1},
                         conditions=[pk.InitialCondition(lambda p: torch.sin(math.pi * p[:, :1]))])
    window = problem.time_window(0.0, 1.0, parameters={"nu": 0.25})
    assert window.parameters == {"nu": 0.25} and problem.parameters == {"nu": 0.1}
    with pytest.raises(ValueError, match=r"parameters: \['mu'\] are not PDE parameters"):
        problem.time_window(0.0, 1.0, parameters={"mu": 0.25})


def test_time_marching_carries_the_trained_parameters_to_the_next_window():
    domain = pk.geometry.Interval(0, 1) * pk.geometry.TimeDomain(0, 1)
    x = torch.rand(20, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    problem = pk.Problem(domain, lambda f: f.u_t - f.nu * f.u_xx, parameters={"nu": 0.1},
                         conditions=[pk.InitialCondition(lambda p: torch.sin(math.pi * p[:, :1]), n=20),
                                     pk.ObservedData(x, torch.zeros(20, 1))])
    torch.manual_seed(0)
    marching = pk.TimeMarching(problem, pk.nets.MLP(2, 1, width=8, depth=2), windows=2,
                               sampler=pk.sampling.FixedPoints(40), dtype=torch.float64, lr=1e-2)
    marching.fit(5, progress=False)
    first, second = marching.trainers
    assert second.problem.parameters["nu"] == pytest.approx(first.parameter_values()["nu"], abs=0, rel=0)
    assert problem.parameters == {"nu": 0.1}
