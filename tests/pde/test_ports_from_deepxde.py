"""What a script ported from DeepXDE needs: conditions whose default sizes fit 1-D domains, initial conditions of ODE
systems on a bare TimeDomain, a clear word on a DeepXDE-style residual, multi-output data weighted per output, and
the PDE residual of a trained network at given points."""

import math

import numpy as np
import pytest
import torch

import pinnkit as pk
from pinnkit.geometry import Interval, Rectangle, TimeDomain


def test_boundary_conditions_on_an_interval_default_to_its_end_points():
    domain = Interval(0, 1)
    problem = pk.Problem(domain, lambda f: f.u_xx + 1, conditions=[
        pk.DirichletBC(), pk.NeumannBC("x_max"), pk.RobinBC(lambda x: x[:, 0] < 0.5), pk.PeriodicBC("x")])
    assert [c.n for c in problem.conditions] == [2, 1, 1, 1]
    points = problem.sample_conditions(0)
    assert points["dirichlet_u_boundary"].flatten().tolist() == [0.0, 1.0]
    assert points["neumann_u_x_max"].flatten().tolist() == [1.0]
    with pytest.raises(ValueError, match="n must be at most 1"):
        pk.Problem(domain, lambda f: f.u_xx, conditions=[pk.DirichletBC("x_min", n=3)]).sample_conditions(0)


def test_boundary_conditions_elsewhere_keep_their_default_size():
    problem = pk.Problem(Rectangle((0, 0), (1, 1)), lambda f: f.u_xx + f.u_yy,
                         conditions=[pk.DirichletBC(), pk.PeriodicBC("x")])
    assert [c.n for c in problem.conditions] == [pk.pde.conditions.DEFAULT_POINTS] * 2
    given = pk.DirichletBC(n=7)
    assert pk.Problem(Interval(0, 1) * TimeDomain(0, 1), lambda f: f.u_t, conditions=[given]).conditions[0].n == 7
    assert given.n == 7  # the condition as built is unchanged by binding


def test_an_ode_initial_condition_on_a_bare_time_domain():
    problem = pk.Problem(TimeDomain(0, 2), lambda f: (f.x_t - f.y, f.y_t + f.x), outputs=("x", "y"),
                         conditions=[pk.InitialCondition(1.0, output="x"), pk.InitialCondition(0.0, output="y")])
    points = problem.sample_conditions(0)
    assert all(p.tolist() == [[0.0]] for p in points.values())
    assert problem.terms == ("pde1", "pde2", "initial_x", "initial_y")
    with pytest.raises(ValueError, match="n must be 1 on a TimeDomain"):
        pk.Problem(TimeDomain(0, 1), lambda f: f.u_t, conditions=[pk.InitialCondition(n=5)])
    with pytest.raises(ValueError, match="InitialCondition needs a time"):
        pk.Problem(Interval(0, 1), lambda f: f.u_x, conditions=[pk.InitialCondition()])


def test_a_second_order_ode_with_an_initial_value_and_slope_trains_to_its_solution():
    """u'' + u = 0, u(0) = 1, u'(0) = 0 on [0, 3]: u = cos t."""
    problem = pk.Problem(TimeDomain(0, 3), lambda f: f.u_tt + f.u, conditions=[
        pk.InitialCondition(1.0), pk.InitialCondition(0.0, derivative=1)])
    torch.manual_seed(0)
    trainer = pk.Trainer(problem, pk.nets.MLP(1, 1, width=16, depth=2, input_bounds=[[0.0], [3.0]]),
                         sampler=pk.sampling.FixedPoints(64, "uniform"), dtype=torch.float64, lr=1e-2)
    trainer.fit(600, progress=False)
    trainer.fit(300, optimizer="lbfgs", progress=False)
    t = np.linspace(0, 3, 50)[:, None]
    assert np.abs(trainer.predict(t)[:, 0] - np.cos(t[:, 0])).max() < 1e-3


@pytest.mark.parametrize("residual", [lambda x, y: x, "pde"])
def test_a_deepxde_style_residual_is_refused_saying_how_to_write_it(residual):
    def pde(x, y):
        return y

    residual = pde if residual == "pde" else residual
    with pytest.raises(ValueError, match=r"residual must take one argument, the fields f.*dde\.grad\.jacobian"):
        pk.Problem(Interval(0, 1), residual)


def test_residuals_with_one_required_argument_are_accepted():
    def with_default(f, scale=2.0):
        return scale * f.u_xx

    for residual in (with_default, lambda *args: args[0].u_xx, lambda f: f.u_xx):
        assert pk.Problem(Interval(0, 1), residual).pde_terms == ("pde",)


def two_output_trainer(conditions):
    domain = Interval(0, 1)
    torch.manual_seed(0)
    problem = pk.Problem(domain, lambda f: (f.u_x - f.v, f.v_x + f.u), outputs=("u", "v"), conditions=conditions)
    return pk.Trainer(problem, pk.nets.MLP(1, 2, width=8, depth=2), dtype=torch.float64,
                      sampler=pk.sampling.FixedPoints(20))


def test_multi_output_data_weighs_as_one_term_per_output():
    x = torch.linspace(0, 1, 9, dtype=torch.float64)[:, None]
    y = torch.cat([torch.sin(x), torch.cos(x)], dim=1)
    joint = two_output_trainer([pk.ObservedData(x, y, outputs=("u", "v"))]).losses()[1]
    apart = two_output_trainer([pk.ObservedData(x, y[:, :1], outputs="u", name="du"),
                                pk.ObservedData(x, y[:, 1:], outputs="v", name="dv")]).losses()[1]
    torch.testing.assert_close(joint["data"], apart["du"] + apart["dv"], rtol=1e-14, atol=0)


def test_a_periodic_condition_of_two_orders_weighs_as_two_conditions():
    torch.manual_seed(0)
    problem = pk.Problem(Rectangle((0, 0), (1, 1)), lambda f: f.u_xx + f.u_yy,
                         conditions=[pk.PeriodicBC("x", orders=(0, 1), n=16)])
    _, terms, residuals = pk.Trainer(problem, pk.nets.MLP(2, 1, width=8, depth=2), dtype=torch.float64).losses()
    r = residuals["periodic_u_x"]
    assert r.shape == (16, 2)
    torch.testing.assert_close(terms["periodic_u_x"], r[:, 0].square().mean() + r[:, 1].square().mean(),
                               rtol=1e-14, atol=0)


def test_the_pde_residual_of_the_trained_network_at_given_points():
    """Of an exact solution the residual vanishes; of another function it is what the equation says."""
    class Exact(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            return torch.cat([torch.sin(x), torch.cos(x)], dim=1) + 0 * self.w

    problem = pk.Problem(Interval(0, 1), lambda f: (f.u_x - f.v, f.v_x + f.u + f.x), outputs=("u", "v"))
    trainer = pk.Trainer(problem, Exact(), dtype=torch.float64)
    x = np.linspace(0, 1, 7)[:, None]
    r = trainer.predict_residual(x)
    assert r.shape == (7, 2) and r.dtype == np.float64
    np.testing.assert_allclose(r[:, 0], 0, atol=1e-15)
    np.testing.assert_allclose(r[:, 1], x[:, 0], atol=1e-15)
    one = pk.Trainer(pk.Problem(Interval(0, 1), lambda f: f.u_x - f.v, outputs=("u", "v")), Exact(),
                     dtype=torch.float64)
    assert one.predict_residual(x).shape == (7,)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 1\)"):
        trainer.predict_residual(np.zeros((3, 2)))
    assert math.isfinite(float(np.abs(r).max()))
