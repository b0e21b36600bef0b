"""HardConstraint: exact values where d = 0, derivatives, broadcasting, errors."""

import doctest
import math

import pytest
import torch

import pinnkit.geometry as G
import pinnkit.nets.hard_constraint
from pinnkit.nets import MLP, HardConstraint


def burgers(dtype=torch.float64):
    torch.manual_seed(0)
    net = MLP(2, 1, width=16, depth=3, input_bounds=[[-1.0, 0.0], [1.0, 1.0]]).to(dtype)
    return HardConstraint(net, lambda xt: -torch.sin(math.pi * xt[:, 0]),
                          lambda xt: xt[:, 1] * (1 - xt[:, 0] ** 2))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_equals_particular_exactly_where_distance_vanishes(dtype):
    u = burgers(dtype)
    x = torch.linspace(-1, 1, 41, dtype=dtype)
    t = torch.linspace(0, 1, 41, dtype=dtype)
    initial = torch.stack([x, torch.zeros_like(x)], dim=1)
    walls = torch.cat([torch.stack([torch.full_like(t, s), t], dim=1) for s in (-1.0, 1.0)])
    for pts in (initial, walls):
        out = u(pts)
        assert out.shape == (len(pts), 1)
        assert torch.equal(out[:, 0], -torch.sin(math.pi * pts[:, 0]))
    inside = torch.tensor([[0.3, 0.5], [-0.7, 0.9]], dtype=dtype)
    assert not torch.equal(u(inside)[:, 0], -torch.sin(math.pi * inside[:, 0]))


def test_x_derivative_matches_central_differences():
    u = burgers(torch.float64)
    gen = torch.Generator().manual_seed(2)
    xt = torch.rand(50, 2, generator=gen, dtype=torch.float64) * torch.tensor([1.8, 1.0]) - torch.tensor([0.9, 0])
    xr = xt.clone().requires_grad_(True)
    du = torch.autograd.grad(u(xr).sum(), xr, create_graph=True)[0]
    h = 1e-5
    e = torch.tensor([h, 0.0], dtype=torch.float64)
    with torch.no_grad():
        fd = (u(xt + e) - u(xt - e))[:, 0] / (2 * h)
    torch.testing.assert_close(du[:, 0].detach(), fd, rtol=0, atol=1e-7)
    # and the formula grad u = grad g + N grad d + d grad N on the x-derivative
    n = u.net(xr)[:, 0]
    dn = torch.autograd.grad(n.sum(), xr)[0][:, 0]
    x, t = xt[:, 0], xt[:, 1]
    expected = -math.pi * torch.cos(math.pi * x) + n.detach() * (-2 * t * x) + t * (1 - x**2) * dn
    torch.testing.assert_close(du[:, 0].detach(), expected, rtol=0, atol=1e-12)


def test_with_a_geometry_distance_and_shapes():
    disk = G.Disk([0.0, 0.0], 1.0)
    net = MLP(2, 3, width=8, depth=2).double()
    gb = disk.sample_boundary(64, dtype=torch.float64)
    # g of shape (N,) broadcasts over the outputs; d of shape (N,) from approx_distance
    u = HardConstraint(net, lambda x: x[:, 0] * x[:, 1], disk.approx_distance)
    out = u(gb)
    assert out.shape == (64, 3)
    torch.testing.assert_close(out, (gb[:, 0] * gb[:, 1])[:, None].expand(64, 3), rtol=0, atol=1e-14)
    on_axes = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], dtype=torch.float64)  # d = 0 exactly there
    assert torch.equal(u(on_axes), (on_axes[:, 0] * on_axes[:, 1])[:, None].expand(3, 3))
    # g of shape (N, outputs), d of shape (N, 1)
    g3 = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    u = HardConstraint(net, lambda x: g3.expand(len(x), 3), lambda x: x[:, 1:2] ** 2)
    x0 = torch.tensor([[0.5, 0.0], [-0.2, 0.0]], dtype=torch.float64)
    assert torch.equal(u(x0), g3.expand(2, 3))
    # a number as particular
    u = HardConstraint(net, 0.0, disk.approx_distance)
    assert float(u(gb).detach().abs().max()) < 1e-14  # boundary points are within rounding of the circle
    assert torch.equal(u(torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=torch.float64)), torch.zeros(2, 3,
                                                                                                  dtype=torch.float64))
    assert u.inputs == 2 and u.outputs == 3
    assert set(dict(u.named_parameters())) == {f"net.{k}" for k, _ in net.named_parameters()}


def test_vmap_over_single_points():
    u = burgers()
    g = lambda xt: -torch.sin(math.pi * xt[..., 0])  # noqa: E731
    d = lambda xt: xt[..., 1] * (1 - xt[..., 0] ** 2)  # noqa: E731
    u = HardConstraint(u.net, g, d)
    xt = torch.rand(8, 2, dtype=torch.float64)
    jac = torch.func.vmap(torch.func.jacrev(u))(xt)
    xr = xt.clone().requires_grad_(True)
    expected = torch.autograd.grad(u(xr).sum(), xr)[0]
    torch.testing.assert_close(jac[:, 0, :], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("make,match", [
    (lambda net: HardConstraint(lambda x: x, 0.0, lambda x: x[:, 0]), "net must be an nn.Module"),
    (lambda net: HardConstraint(net, "g", lambda x: x[:, 0]), "particular must be a callable"),
    (lambda net: HardConstraint(net, 0.0, 1.0), "distance must be a callable"),
])
def test_construction_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make(MLP(2, 1, width=4, depth=1))


def test_shape_errors():
    net = MLP(2, 2, width=4, depth=1)
    x = torch.rand(5, 2)
    with pytest.raises(ValueError, match=r"distance\(x\) must have shape \(5,\) or \(5, 1\) or \(5, 2\).*got shape "
                                         r"\(5, 3\)"):
        HardConstraint(net, 0.0, lambda x: torch.cat([x, x[:, :1]], dim=1))(x)
    with pytest.raises(ValueError, match=r"parts\[1\] must be a callable x -> f\(x\) or a real number; got 'a'"):
        HardConstraint(net, 0.0, [lambda x: x[:, 0], "a"])
    with pytest.raises(ValueError, match=r"parts\[0\]\(x\) must have shape \(5,\) or \(5, 1\); got \(5, 2\)"):
        HardConstraint(net, 0.0, [lambda x: x, 1.0])(x)
    with pytest.raises(ValueError, match=r"particular\(x\) must have shape \(5,\) or \(5, 1\) or \(5, 2\)"):
        HardConstraint(net, lambda x: torch.zeros(5, 3), lambda x: x[:, 0])(x)
    with pytest.raises(ValueError, match=r"distance\(x\) must return a tensor"):
        HardConstraint(net, 0.0, lambda x: 1.0)(x)


def test_docstring_example():
    result = doctest.testmod(pinnkit.nets.hard_constraint)
    assert result.attempted > 0 and result.failed == 0


def test_per_output_distances_and_particulars():
    """``u_j = g_j + d_j N_j`` column by column; d = 1 leaves an output free (exactly N_j), lists become PerOutput."""
    torch.manual_seed(0)
    net = MLP(2, 3, width=8, depth=2).double()
    names, expression = ("x", "y"), pinnkit.nets.Expression
    constrained = HardConstraint(net, [expression("y**2", names), 0.0, 0.0],
                                 [expression("x*(1 - x)", names), expression("y", names), 1.0])
    x = torch.rand(7, 2, dtype=torch.float64)
    n, u = net(x), constrained(x)
    torch.testing.assert_close(u[:, 0], x[:, 1] ** 2 + x[:, 0] * (1 - x[:, 0]) * n[:, 0], rtol=0, atol=1e-15)
    torch.testing.assert_close(u[:, 1], x[:, 1] * n[:, 1], rtol=0, atol=0)
    assert torch.equal(u[:, 2], n[:, 2])
    assert isinstance(constrained.distance, pinnkit.nets.PerOutput)
    spec = pinnkit.nets.net_spec(constrained)
    rebuilt = pinnkit.nets.build_net(spec["class"], spec["config"]).double()
    rebuilt.load_state_dict(constrained.state_dict())
    assert torch.equal(rebuilt(x), u)
