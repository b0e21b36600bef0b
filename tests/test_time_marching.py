"""Time-marching: window problems, hand-over of the initial condition, prediction, checkpoints."""

import math

import numpy as np
import pytest
import torch

import pinnkit as pk

DOMAIN = pk.geometry.Interval(0, 2 * math.pi) * pk.geometry.TimeDomain(0, 1)


def convection_problem(beta=1.0, data=None):
    conditions = [pk.InitialCondition(lambda x: torch.sin(x[:, :1]), n=64), pk.PeriodicBC("x", n=32),
                  pk.DirichletBC(DOMAIN.boundary("left"), lambda x: torch.sin(-beta * x[:, 1:]), n=16)]
    if data is not None:
        conditions.append(pk.ObservedData(*data))
    return pk.Problem(DOMAIN, pk.pde.equations.convection(beta), outputs="u", conditions=conditions)


def marching(sampler=None, windows=3, weighting=None, **kw):
    torch.manual_seed(0)
    net = pk.nets.MLP(2, 1, width=16, depth=2, input_bounds=DOMAIN.bbox)
    return pk.TimeMarching(convection_problem(), net, windows, sampler=sampler, weighting=weighting,
                           dtype=torch.float64, **kw)


def test_window_problems_live_in_their_windows_and_keep_the_conditions():
    x = np.stack([np.linspace(0.1, 6, 10), np.linspace(0, 1, 10)], axis=1)
    problem = convection_problem(data=(x, np.sin(x[:, :1] - x[:, 1:])))
    window = problem.time_window(0.0, 0.5)
    assert window.terms == problem.terms and window.domain.time.t1 == 0.5
    points = window.sample_conditions(seed=0)
    assert points["dirichlet_u_x_min"][:, 1].max() <= 0.5 and torch.all(points["dirichlet_u_x_min"][:, 0] == 0)
    assert len(points["data"]) == 5 and torch.all(points["data"][:, 1] <= 0.5)  # observations in the window
    later = problem.time_window(0.5, 1.0, {"initial_u": lambda p: torch.cos(p[:, 0])})
    assert torch.all(later.sample_conditions(seed=0)["initial_u"][:, 1] == 0.5)
    assert "data" in later.terms
    with pytest.raises(ValueError, match="needs the initial values"):
        problem.time_window(0.5, 1.0)
    with pytest.raises(ValueError, match="window"):
        problem.time_window(0.5, 1.5, {"initial_u": 0.0})
    with pytest.raises(ValueError, match="not initial conditions"):
        problem.time_window(0.0, 0.5, {"periodic_u_x": 0.0})
    assert problem.time_window(0.23, 0.33, {"initial_u": 0.0}).terms == problem.terms[:-1]  # no data there


def test_each_window_starts_from_the_previous_windows_prediction_and_predict_dispatches():
    m = marching(windows=[0.0, 0.4, 1.0])
    m.fit(40, progress=False)
    assert len(m.trainers) == 2 and m.trainers[1].problem.domain.time.t0 == 0.4
    second = m.trainers[1]
    ic_points = second.condition_points["initial_u"]
    assert torch.all(ic_points[:, 1] == 0.4)
    batch = second.problem.batch(ic_points, {c: p for c, p in second.condition_points.items()})
    target = batch.data["initial_u"]["value"]
    np.testing.assert_allclose(target.numpy(), m.trainers[0].predict(ic_points)[:, 0], rtol=1e-12)
    x = np.array([[1.0, 0.1], [2.0, 0.39], [3.0, 0.4], [4.0, 1.0]])
    expected = np.concatenate([m.trainers[0].predict(x[:2]), m.trainers[1].predict(x[2:])])
    np.testing.assert_array_equal(m.predict(x), expected)


def test_marching_learns_the_convection_solution():
    x, t = np.meshgrid(np.linspace(0, 2 * math.pi, 40), np.linspace(0, 1, 20))
    points = np.stack([x.ravel(), t.ravel()], axis=1)
    exact = np.sin(points[:, 0] - points[:, 1])
    m = marching(pk.sampling.R3(256), windows=2, reference=(points, exact), lr=1e-2)
    m.fit(lambda tr: (tr.fit(300, progress=False), tr.fit(100, optimizer="lbfgs", progress=False)))
    error = pk.metrics.l2_relative_error(m.predict(points), exact[:, None])
    assert error < 3e-2
    assert all("l2_relative_error" in tr.history[-1] for tr in m.trainers)


def test_initial_time_derivative_is_handed_over():
    torch.manual_seed(0)
    net = pk.nets.MLP(2, 1, width=8, depth=2).double()
    value = pk.training.PreviousWindow(net, 0, derivative=1)
    p = torch.tensor([[0.3, 0.5], [0.7, 0.5]], dtype=torch.float64)
    h = 1e-6
    fd = (net(p + torch.tensor([0, h])) - net(p - torch.tensor([0, h])))[:, 0] / (2 * h)
    torch.testing.assert_close(value(p), fd.detach(), rtol=1e-7, atol=1e-9)


def test_checkpoint_round_trip_and_load(tmp_path):
    m = marching(pk.sampling.Resample(64), weighting=pk.weighting.CausalWeighting(chunks=4), windows=2)
    m.fit(10, progress=False)
    m.save(tmp_path / "march.pt")
    x = np.array([[1.0, 0.2], [2.0, 0.9]])
    np.testing.assert_array_equal(pk.load(tmp_path / "march.pt").predict(x), m.predict(x))
    again = marching(pk.sampling.Resample(64), weighting=pk.weighting.CausalWeighting(chunks=4), windows=2)
    again.load_state(tmp_path / "march.pt")
    np.testing.assert_array_equal(again.predict(x), m.predict(x))
    assert again.trainers[1].step == 10
    again.fit(5, progress=False)  # nothing left to train
    assert again.trainers[1].step == 10


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match="windows must be a positive"):
        marching(windows=0)
    with pytest.raises(ValueError, match="cut times must increase"):
        marching(windows=[0.0, 0.6, 0.5, 1.0])
    with pytest.raises(ValueError, match="space-time domain"):
        pk.TimeMarching(pk.Problem(pk.geometry.Interval(0, 1), lambda f: f.u_xx), pk.nets.MLP(1, 1), 2)
    with pytest.raises(ValueError, match="windows are trained"):
        marching().predict(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="plan must be"):
        marching().fit(-1)


def test_time_windows_net_checks_its_edges():
    nets = [pk.nets.MLP(2, 1), pk.nets.MLP(2, 1)]
    with pytest.raises(ValueError, match="edges must be 3 increasing"):
        pk.nets.TimeWindows(nets, [0.0, 1.0])
    with pytest.raises(ValueError, match="edges must be 3 increasing"):
        pk.nets.TimeWindows(nets, [0.0, 0.0, 1.0])
    net = pk.nets.TimeWindows(nets, [0.0, 0.5, 1.0])
    rebuilt = pk.nets.build_net("TimeWindows", net.config)
    rebuilt.load_state_dict(net.state_dict())
    x = torch.rand(50, 2)
    assert torch.equal(rebuilt(x), net(x))


def test_local_time_maps_the_window_onto_the_span_and_scales_time_derivatives():
    torch.manual_seed(0)
    inner = pk.nets.MLP(2, 1, width=8, depth=2).double()
    net = pk.nets.LocalTime(inner, window=(0.5, 0.75), span=(0.0, 1.0))
    x = torch.tensor([[0.3, 0.5], [0.2, 0.6], [0.9, 0.75]], dtype=torch.float64)
    mapped = torch.tensor([[0.3, 0.0], [0.2, 0.4], [0.9, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(net(x), inner(mapped), rtol=1e-14, atol=1e-15)
    engine = pk.derivatives.AutogradDerivatives(net, x)
    inner_engine = pk.derivatives.AutogradDerivatives(inner, mapped)
    torch.testing.assert_close(engine(0, (1,)), 4.0 * inner_engine(0, (1,)), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(engine(0, (0, 1)), 4.0 * inner_engine(0, (0, 1)), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="increasing pairs"):
        pk.nets.LocalTime(inner, window=(1.0, 0.5), span=(0.0, 1.0))
    rebuilt = pk.nets.build_net("LocalTime", pk.nets.LocalTime(pk.nets.MLP(2, 1), (0.0, 0.5), (0.0, 1.0)).config)
    assert isinstance(rebuilt, pk.nets.LocalTime) and rebuilt.window == (0.0, 0.5)


def test_history_counts_steps_across_windows():
    m = marching(windows=2)
    m.fit(6, progress=False, log_every=3)
    steps = [(h["window"], h["step"]) for h in m.history]
    assert steps == [(0, 3), (0, 6), (1, 9), (1, 12)]
