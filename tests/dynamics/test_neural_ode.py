"""NeuralODE against exact solutions, adjoint against direct gradients, and its input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

import pinnkit.dynamics as dyn

A = np.array([[-0.1, 2.0], [-2.0, -0.1]])
F64 = torch.float64


def linear_field(matrix: np.ndarray) -> nn.Module:
    lin = nn.Linear(matrix.shape[1], matrix.shape[0], bias=False).double()
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(matrix))
    return dyn.Autonomous(lin)


def exact_linear(u0: np.ndarray, t: np.ndarray, matrix: np.ndarray = A) -> np.ndarray:
    """u(t) = expm(A t) u0 for every row of u0: (T, B, d)."""
    return np.stack([u0 @ scipy.linalg.expm(matrix * ti).T for ti in t])


@pytest.mark.parametrize("adjoint", [False, True])
def test_linear_ode_matches_the_matrix_exponential(adjoint):
    t = torch.linspace(0, 3, 16, dtype=F64)
    u0 = torch.tensor([[1.0, 0.5], [0.2, -1.0], [0.0, 2.0]], dtype=F64)
    ode = dyn.NeuralODE(linear_field(A), rtol=1e-10, atol=1e-12, adjoint=adjoint)
    u = ode(u0, t)
    assert u.shape == (16, 3, 2) and ode.nfe > 0
    np.testing.assert_allclose(u.detach().numpy(), exact_linear(u0.numpy(), t.numpy()), rtol=0, atol=1e-7)


def test_rk4_converges_at_fourth_order():
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(3, 3))
    t = torch.tensor([0.0, 1.0], dtype=F64)
    u0 = torch.tensor([1.0, -0.5, 0.25], dtype=F64)
    exact = exact_linear(u0.numpy()[None], t.numpy(), matrix)[-1, 0]
    errors = []
    for h in (0.1, 0.05, 0.025):
        u = dyn.NeuralODE(linear_field(matrix), method="rk4", step_size=h)(u0, t)
        assert u.shape == (2, 3)
        errors.append(np.abs(u[-1].detach().numpy() - exact).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 3.7) and np.all(orders < 4.3), orders


def test_time_dependent_field():
    """du/dt = t u has u(t) = u0 exp(t^2 / 2); the time reaches the net as a first input column."""

    class TimesU(nn.Module):
        def forward(self, x):  # x = [t, u]
            return x[:, :1] * x[:, 1:]

    t = torch.linspace(0, 1.5, 7, dtype=F64)
    u0 = torch.tensor([[2.0, -1.0]], dtype=F64)
    u = dyn.NeuralODE(dyn.TimeDependent(TimesU()), rtol=1e-10, atol=1e-12)(u0, t)
    exact = u0.numpy()[None] * np.exp(t.numpy() ** 2 / 2)[:, None, None]
    np.testing.assert_allclose(u.detach().numpy(), exact, rtol=1e-8)
    # a plain function is a field too
    u_fn = dyn.NeuralODE(lambda s, v: s * v, rtol=1e-10, atol=1e-12)(u0, t)
    np.testing.assert_allclose(u_fn.numpy(), exact, rtol=1e-8)


def small_mlp(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)).double()


@pytest.mark.parametrize("method, options", [("dopri5", {"rtol": 1e-10, "atol": 1e-12}),
                                             ("rk4", {"step_size": 0.01})])
def test_adjoint_gradients_equal_direct_gradients(method, options):
    net = small_mlp(0)
    t = torch.linspace(0, 1, 6, dtype=F64)
    target = torch.randn(6, 4, 2, dtype=F64, generator=torch.Generator().manual_seed(1))
    grads = []
    for adjoint in (False, True):
        ode = dyn.NeuralODE(dyn.Autonomous(net), method=method, adjoint=adjoint, **options)
        u0 = torch.tensor([[0.5, -0.3], [1.0, 0.2], [-0.7, 0.4], [0.1, 0.9]], dtype=F64, requires_grad=True)
        net.zero_grad()
        loss = (ode(u0, t) - target).pow(2).mean()
        loss.backward()
        grads.append(torch.cat([u0.grad.flatten()] + [p.grad.flatten() for p in net.parameters()]))
    direct, adjoint = grads
    assert float((direct - adjoint).norm() / direct.norm()) < 1e-7


def test_direct_gradient_matches_finite_differences():
    lin = nn.Linear(2, 2, bias=False).double()
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(A))
    ode = dyn.NeuralODE(dyn.Autonomous(lin), rtol=1e-11, atol=1e-13)
    t = torch.linspace(0, 1, 5, dtype=F64)
    u0 = torch.tensor([1.0, 0.5], dtype=F64)
    ode(u0, t).pow(2).sum().backward()
    eps = 1e-6
    for i, j in ((0, 0), (0, 1), (1, 0)):
        plus, minus = A.copy(), A.copy()
        plus[i, j] += eps
        minus[i, j] -= eps
        fd = (np.sum(exact_linear(u0.numpy()[None], t.numpy(), plus) ** 2)
              - np.sum(exact_linear(u0.numpy()[None], t.numpy(), minus) ** 2)) / (2 * eps)
        assert float(lin.weight.grad[i, j]) == pytest.approx(fd, rel=1e-6)


def test_bad_inputs_are_refused_clearly():
    field = linear_field(A)
    t = torch.linspace(0, 1, 5, dtype=F64)
    u0 = torch.ones(2, dtype=F64)
    with pytest.raises(ValueError, match="method must be one of"):
        dyn.NeuralODE(field, method="rk45")
    with pytest.raises(ValueError, match="step_size is required"):
        dyn.NeuralODE(field, method="rk4")
    with pytest.raises(ValueError, match="step_size is for fixed-step"):
        dyn.NeuralODE(field, step_size=0.1)
    with pytest.raises(ValueError, match="rtol must be a positive"):
        dyn.NeuralODE(field, rtol=-1.0)
    with pytest.raises(ValueError, match="adjoint must be True or False"):
        dyn.NeuralODE(field, adjoint="yes")
    with pytest.raises(ValueError, match="field must be an nn.Module or a callable"):
        dyn.NeuralODE(3.0)
    ode = dyn.NeuralODE(field)
    with pytest.raises(ValueError, match="strictly increasing"):
        ode(u0, t.flip(0))
    with pytest.raises(ValueError, match="at least two times"):
        ode(u0, t[:1])
    with pytest.raises(ValueError, match="u0 must be a tensor of shape"):
        ode(torch.ones(1, 1, 2, dtype=F64), t)
    with pytest.raises(ValueError, match="same floating dtype"):
        ode(u0.float(), t)
    with pytest.raises(ValueError, match="one rate per state component"):
        dyn.NeuralODE(lambda s, v: v[:, :1])(torch.ones(1, 2, dtype=F64), t)
    assert math.isfinite(float(ode(u0, t).detach().sum()))
