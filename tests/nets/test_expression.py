"""Expression: formulas of the coordinates equal the same maths written in torch; the grammar is closed."""

import math

import pytest
import torch

import pinnkit as pk
from pinnkit.nets import MLP, Expression, HardConstraint


def test_values_and_derivatives_match_torch():
    x = torch.rand(50, 2, dtype=torch.float64, requires_grad=True)
    f = Expression("-sin(pi*x) + t**2/3 - exp(-t)*cosh(x) + sqrt(1 + x**2) - abs(x - 0.5) + tanh(2*t) + log(2 + t)",
                   ("x", "t"))
    xs, ts = x[:, 0], x[:, 1]
    expected = (-torch.sin(math.pi * xs) + ts**2 / 3 - torch.exp(-ts) * torch.cosh(xs) + torch.sqrt(1 + xs**2)
                - torch.abs(xs - 0.5) + torch.tanh(2 * ts) + torch.log(2 + ts))
    value = f(x)
    assert value.shape == (50,)
    torch.testing.assert_close(value, expected, rtol=1e-14, atol=1e-14)
    (g,) = torch.autograd.grad(value.sum(), x)
    (g_expected,) = torch.autograd.grad(expected.sum(), x)
    torch.testing.assert_close(g, g_expected, rtol=1e-14, atol=1e-14)


def test_constants_broadcast_and_keep_dtype():
    x = torch.zeros(4, 3, dtype=torch.float32)
    out = Expression("2*pi - e**2 + sin(1)", ("x", "y", "z"))(x)
    assert out.dtype == torch.float32 and out.shape == (4,)
    torch.testing.assert_close(out, torch.full((4,), 2 * math.pi - math.e**2 + math.sin(1.0)))


@pytest.mark.parametrize("text, message", [
    ('__import__("os")', "not allowed"), ("x.real", "not allowed"), ("y + 1", "unknown name 'y'"),
    ("sin(x, t)", "exactly one argument"), ("1 +", "not a valid formula"), ("x if t else 1", "not allowed"),
    ("True", "not allowed"), ("", "non-empty"),
])
def test_grammar_is_closed(text, message):
    with pytest.raises(ValueError, match=message):
        Expression(text, ("x", "t"))


def test_bad_coordinates():
    with pytest.raises(ValueError, match="coordinates must be a sequence of names"):
        Expression("x", "xt")
    with pytest.raises(ValueError, match="distinct"):
        Expression("x", ("x", "x"))
    with pytest.raises(ValueError, match="like a function or constant"):
        Expression("pi", ("pi",))


def test_hard_constrained_model_reloads_without_net(tmp_path):
    """A Trainer checkpoint of an expression hard constraint is rebuilt by pinnkit.load alone."""
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 1)
    problem = pk.Problem(domain, pk.pde.equations.burgers(0.01 / math.pi), outputs="u")
    torch.manual_seed(0)
    net = HardConstraint(MLP(2, 1, width=8, depth=2, input_bounds=domain.bbox),
                         Expression("-sin(pi*x)", domain.names), Expression("t*(1 - x**2)", domain.names))
    trainer = pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(64, "sobol"), seed=0)
    trainer.fit(3, progress=False)
    trainer.save(tmp_path / "model.pt")
    x = domain.sample_interior(20, "sobol", seed=1).numpy()
    model = pk.load(tmp_path / "model.pt")
    assert isinstance(model.net, HardConstraint)
    assert (model.predict(x) == trainer.predict(x)).all()
    at_t0 = torch.stack([torch.linspace(-1, 1, 9, dtype=torch.float64), torch.zeros(9, dtype=torch.float64)], 1)
    torch.testing.assert_close(torch.from_numpy(model.predict(at_t0.numpy()))[:, 0], -torch.sin(math.pi * at_t0[:, 0]),
                               rtol=0, atol=1e-6)
