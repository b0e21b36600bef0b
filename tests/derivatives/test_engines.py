"""The derivative engines against closed-form derivatives, and against each other."""

import itertools
import math

import pytest
import torch

import pinnkit as pk
from pinnkit.derivatives import AutogradDerivatives, ZCSDerivatives
from pinnkit.pde.fields import Fields, NameResolver
from pinnkit.testing import assert_derivatives_match

BACKENDS = ("autograd", "zcs")

# Separable test functions u_j(x) = prod_i f_ji(x_i) with f = sin(a x + phi) or exp(b x): every derivative is
# closed-form, d^k sin(ax + phi) = a^k sin(ax + phi + k pi/2) and d^k exp(bx) = b^k exp(bx).
FACTORS = [
    [("sin", 1.3, 0.0), ("exp", 0.7), ("sin", 0.9, math.pi / 2), ("sin", 0.5, 0.2)],
    [("exp", -0.4), ("sin", 1.1, 0.3), ("exp", 0.2), ("sin", 2.0, 0.0)],
]


def factor(spec, x, k):
    if spec[0] == "sin":
        _, a, phi = spec
        return a**k * torch.sin(a * x + phi + k * math.pi / 2)
    return spec[1] ** k * torch.exp(spec[1] * x)


def analytic_net(x):
    return torch.stack([math.prod(factor(f, x[:, i], 0) for i, f in enumerate(fs)) for fs in FACTORS], dim=1)


def analytic_derivative(j, alpha, x):
    counts = [alpha.count(i) for i in range(x.shape[1])]
    return math.prod(factor(f, x[:, i], counts[i]) for i, f in enumerate(FACTORS[j]))


def multi_indices(dim, max_order):
    for order in range(1, max_order + 1):
        yield from itertools.combinations_with_replacement(range(dim), order)


@pytest.fixture
def points():
    return torch.rand(64, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 - 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_all_derivatives_to_fourth_order_in_3d_plus_time(backend, points):
    """Every multi-index up to order 4 in (x, y, z, t), two outputs: equal to the closed form."""
    eng = pk.Backend(backend).engine(analytic_net, points)
    for j in range(2):
        torch.testing.assert_close(eng(j), analytic_net(points)[:, j], rtol=0, atol=0)
        for alpha in multi_indices(4, 4):
            torch.testing.assert_close(eng(j, alpha), analytic_derivative(j, alpha, points), rtol=1e-12,
                                       atol=1e-12, msg=lambda m, a=alpha, jj=j: f"output {jj}, alpha {a}: {m}")


def mlp(inputs, outputs, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(inputs, 24), torch.nn.Tanh(), torch.nn.Linear(24, 24),
                               torch.nn.Tanh(), torch.nn.Linear(24, outputs)).double()


@pytest.mark.parametrize("dim,outputs", [(1, 1), (2, 1), (3, 3), (4, 2)])
def test_backends_agree_on_a_network(dim, outputs):
    """Autograd and ZCS agree to 1e-10 on an MLP, for every multi-index up to order 4."""
    net = mlp(dim, outputs, seed=dim)
    x = torch.rand(50, dim, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    auto, zcs = AutogradDerivatives(net, x), ZCSDerivatives(net, x)
    for j in range(outputs):
        for alpha in multi_indices(dim, 4 if dim <= 2 else 3):
            torch.testing.assert_close(zcs(j, alpha), auto(j, alpha), rtol=1e-10, atol=1e-10)


def test_network_derivatives_against_finite_differences():
    """Float64 central differences of the network itself (independent of both engines)."""
    net = mlp(2, 1, seed=3)
    x = torch.rand(20, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    report = assert_derivatives_match(net, x, orders=[(0, 0), (0, 1)], backends=BACKENDS, atol=1e-6)
    assert list(report) == list(BACKENDS)


@pytest.mark.parametrize("backend", BACKENDS)
def test_results_are_cached_and_mixed_partials_commute(backend, points):
    eng = pk.Backend(backend).engine(analytic_net, points)
    first = eng(0, (0, 3))
    assert eng(0, (3, 0)) is first and eng(0, (0, 3)) is first


@pytest.mark.parametrize("backend", BACKENDS)
def test_vanishing_derivatives_are_zero_not_errors(backend):
    net = torch.nn.Linear(2, 1).double()
    x = torch.rand(10, 2, dtype=torch.float64)
    eng = pk.Backend(backend).engine(net, x)
    torch.testing.assert_close(eng(0, (0,)), torch.full((10,), net.weight[0, 0].item(), dtype=torch.float64))
    assert torch.all(eng(0, (0, 0)) == 0) and torch.all(eng(0, (0, 1, 1)) == 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_derivatives_carry_gradients_to_the_parameters(backend):
    """A loss made of derivatives trains the network: its parameter gradient matches the other backend's."""
    grads = {}
    for b in BACKENDS:
        net = mlp(2, 1, seed=5)
        x = torch.rand(30, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
        eng = pk.Backend(b).engine(net, x)
        loss = (eng(0, (1,)) + eng(0) * eng(0, (0,)) - 0.01 * eng(0, (0, 0))).pow(2).mean()
        grads[b] = torch.autograd.grad(loss, list(net.parameters()))
    for ga, gz in zip(grads["autograd"], grads["zcs"], strict=True):
        torch.testing.assert_close(gz, ga, rtol=1e-10, atol=1e-12)


class TestFields:
    names = NameResolver(("u", "v"), ("x", "y", "t"), ("nu",))

    def fields(self, backend="autograd"):
        x = torch.rand(16, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        net = mlp(3, 2, seed=7)
        return Fields(pk.Backend(backend).engine(net, x), self.names, {"nu": torch.tensor(0.1)}), net, x

    def test_attribute_names(self):
        f, net, x = self.fields()
        torch.testing.assert_close(f.u, net(x)[:, 0])
        torch.testing.assert_close(f.v, net(x)[:, 1])
        assert torch.equal(f.x, x[:, 0]) and torch.equal(f.t, x[:, 2])
        assert f.nu.item() == pytest.approx(0.1)
        assert f.u_xx is f.d("u", "x", "x")
        assert f.v_xyt is f.d("v", "t", "y", "x") and f["v_xyt"] is f.v_xyt
        torch.testing.assert_close(f.gradient("u"), torch.stack([f.u_x, f.u_y, f.u_t], dim=1))

    def test_multi_letter_coordinates(self):
        names = NameResolver(("u",), ("x1", "x2", "x3", "x4"))
        x = torch.rand(8, 4, dtype=torch.float64)
        f = Fields(AutogradDerivatives(mlp(4, 1), x), names)
        assert f.u_x1x2 is f.d("u", "x1", "x2")
        assert f.u_x4x4x4x4 is f.d("u", "x4", "x4", "x4", "x4")

    def test_restrict_slices_values(self):
        f, net, x = self.fields()
        g = f.restrict(slice(4, 9))
        torch.testing.assert_close(g.u_xy, f.u_xy[4:9])
        assert torch.equal(g.points, x[4:9])

    def test_unknown_names_are_explained(self):
        f, _, _ = self.fields()
        with pytest.raises(AttributeError, match="'w' is not a field of this problem.*outputs \\('u', 'v'\\)"):
            _ = f.w
        with pytest.raises(AttributeError, match="u_z"):
            _ = f.u_z
        with pytest.raises(ValueError, match="unknown coordinate"):
            f.d("u", "z")
        with pytest.raises(ValueError, match="unknown output"):
            f.d("w", "x")

    def test_name_clashes_are_rejected(self):
        with pytest.raises(ValueError, match="distinct"):
            NameResolver(("x",), ("x", "t"))
        with pytest.raises(ValueError, match="identifiers"):
            NameResolver(("u v",), ("x",))

    def test_unknown_backend(self):
        with pytest.raises(ValueError, match="backend must be one of"):
            pk.Backend("forward")
