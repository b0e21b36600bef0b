"""MLP: shapes, initialisation, input scaling, argument checks, float64, functional transforms."""

import doctest
import math

import numpy as np
import pytest
import torch
from torch import nn

import pinnkit.geometry as G
import pinnkit.nets
from pinnkit.nets import MLP, FourierFeatures, InputScaling, ModifiedMLP, PeriodicEmbedding


@pytest.mark.parametrize("cls", [MLP, ModifiedMLP])
def test_shapes(cls):
    net = cls(3, 2, width=16, depth=3)
    assert net(torch.rand(7, 3)).shape == (7, 2)
    assert net(torch.rand(4, 5, 3)).shape == (4, 5, 2)
    assert net(torch.rand(3)).shape == (2,)
    assert net(torch.rand(0, 3)).shape == (0, 2)
    x = torch.rand(4, 5, 3)
    torch.testing.assert_close(net(x), net(x.reshape(20, 3)).reshape(4, 5, 2), rtol=0, atol=1e-6)


def test_layers():
    net = MLP(3, 2, width=16, depth=3)
    assert [(m.in_features, m.out_features) for m in net.hidden] == [(3, 16), (16, 16), (16, 16)]
    assert (net.output.in_features, net.output.out_features) == (16, 2)
    assert isinstance(net.activation, nn.Tanh)
    assert net.input_scaling is None and net.embedding is None


def test_matches_hand_written_forward():
    net = MLP(2, 3, width=8, depth=2, activation="sin").double()
    x = torch.rand(10, 2, dtype=torch.float64)
    h = x
    for layer in net.hidden:
        h = torch.sin(h @ layer.weight.T + layer.bias)
    expected = h @ net.output.weight.T + net.output.bias
    torch.testing.assert_close(net(x), expected, rtol=0, atol=1e-14)


@pytest.mark.parametrize("init,dist", [("glorot", "normal"), ("glorot_uniform", "uniform")])
def test_glorot_statistics(init, dist):
    torch.manual_seed(0)
    net = MLP(600, 3, width=1000, depth=1, init=init)
    w = net.hidden[0].weight.detach().double()
    expected = math.sqrt(2 / (600 + 1000))
    assert abs(float(w.std()) / expected - 1) < 0.1
    assert abs(float(w.mean())) < 0.1 * expected
    if dist == "uniform":
        assert float(w.abs().max()) <= math.sqrt(6 / 1600) * (1 + 1e-6)
    else:  # normal: about 31.7% of the draws beyond one standard deviation (uniform: 42.3%)
        assert abs(float((w.abs() > expected).double().mean()) - 0.3173) < 0.01
    for layer in [*net.hidden, net.output]:
        assert torch.equal(layer.bias, torch.zeros_like(layer.bias))
    out_std = float(net.output.weight.detach().std())
    assert abs(out_std / math.sqrt(2 / 1003) - 1) < 0.1


def test_default_init_keeps_torch_init():
    torch.manual_seed(0)
    net = MLP(600, 3, width=1000, depth=1, init="default")
    w, b = net.hidden[0].weight.detach(), net.hidden[0].bias.detach()
    bound = 1 / math.sqrt(600)  # torch's kaiming_uniform(a=sqrt(5)) bound
    assert float(w.abs().max()) <= bound and float(w.abs().max()) > 0.99 * bound
    assert float(b.abs().min()) > 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_input_scaling_maps_bounds_to_plus_minus_one_exactly(dtype):
    geom = G.Rectangle([-0.3, 0.1], [0.7, 2.9]) * G.TimeDomain(0.0, 0.1)
    net = MLP(3, 1, width=8, depth=1, input_bounds=geom.bbox)
    if dtype == torch.float64:
        net = net.double()
    lo, hi = geom.bbox.to(dtype)
    assert net.input_scaling.lower.dtype == torch.float64  # bounds are kept in float64
    assert torch.equal(net.input_scaling(lo), -torch.ones(3, dtype=dtype))
    assert torch.equal(net.input_scaling(hi), torch.ones(3, dtype=dtype))
    corners = torch.stack([lo, hi, torch.stack([lo[0], hi[1], lo[2]])])
    assert torch.equal(net.input_scaling(corners).abs(), torch.ones(3, 3, dtype=dtype))
    mid = (lo + hi) / 2
    torch.testing.assert_close(net.input_scaling(mid), torch.zeros(3, dtype=dtype), rtol=0, atol=1e-6)
    # buffers, not parameters
    assert len(list(net.input_scaling.parameters())) == 0
    assert {"input_scaling.lower", "input_scaling.upper"} <= set(net.state_dict())


def test_input_scaling_feeds_the_first_layer():
    bounds = np.array([[0.0, -2.0], [4.0, 2.0]])
    net = MLP(2, 1, width=4, depth=1, input_bounds=bounds).double()
    ref = MLP(2, 1, width=4, depth=1).double()
    ref.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith("input_scaling")})
    x = torch.tensor([[1.0, 1.0], [4.0, -2.0]], dtype=torch.float64)
    xi = torch.tensor([[-0.5, 0.5], [1.0, -1.0]], dtype=torch.float64)
    torch.testing.assert_close(net(x), ref(xi), rtol=0, atol=1e-15)


def test_input_scaling_module():
    s = InputScaling([[0.0], [2.0]])
    assert s.inputs == s.outputs == 1
    assert torch.equal(s(torch.tensor([[0.0], [1.0], [2.0]])), torch.tensor([[-1.0], [0.0], [1.0]]))


def test_embedding_after_scaling():
    torch.manual_seed(0)
    emb = PeriodicEmbedding(2, {0: 2.0})
    net = MLP(2, 1, width=8, depth=2, input_bounds=[[0.0, 0.0], [5.0, 1.0]], embedding=emb)
    assert net.hidden[0].in_features == 3 and net.features == 3
    x = torch.tensor([[0.0, 0.3], [5.0, 0.3]])  # x = 0 and x = 5 both scale to +-1: one period apart
    y = net(x)
    torch.testing.assert_close(y[0], y[1], rtol=0, atol=1e-6)
    ff = FourierFeatures(2, 10, seed=0)
    assert MLP(2, 1, width=8, depth=1, embedding=ff).hidden[0].in_features == 20


def test_sequential_composition():
    ff = FourierFeatures(2, 6, scale=2.0, seed=3)
    seq = nn.Sequential(ff, MLP(ff.outputs, 2, width=8, depth=2))
    assert seq(torch.rand(5, 2)).shape == (5, 2)


def test_float64():
    net = MLP(2, 1, width=8, depth=2).double()
    x = torch.rand(5, 2, dtype=torch.float64)
    y = net(x)
    assert y.dtype == torch.float64
    assert all(p.dtype == torch.float64 for p in net.parameters())


def test_activation_choices():
    x = torch.rand(5, 2)
    for act in ["relu", "gelu", "swish", "softplus", "sigmoid", "elu", "sin", nn.Tanh, nn.Softplus(beta=3.0)]:
        assert MLP(2, 1, width=4, depth=2, activation=act)(x).shape == (5, 1)
    prelu = nn.PReLU()
    net = MLP(2, 1, width=4, depth=2, activation=prelu)
    assert net.activation is prelu and "activation.weight" in net.state_dict()  # one shared parameter


@pytest.mark.parametrize("kwargs,match", [
    (dict(inputs=0, outputs=1), "inputs must be a positive integer; got 0"),
    (dict(inputs=2.0, outputs=1), "inputs must be a positive integer; got 2.0"),
    (dict(inputs=True, outputs=1), "inputs must be a positive integer"),
    (dict(inputs=2, outputs=-1), "outputs must be a positive integer"),
    (dict(inputs=2, outputs=1, width=0), "width must be a positive integer"),
    (dict(inputs=2, outputs=1, depth="3"), "depth must be a positive integer"),
    (dict(inputs=2, outputs=1, activation="tahn"), "activation must be one of"),
    (dict(inputs=2, outputs=1, init="xavier"), r"init must be one of \['glorot', 'glorot_uniform', 'default'\]"),
    (dict(inputs=2, outputs=1, input_bounds=[[0, 0], [1, 1], [2, 2]]), r"input_bounds must have shape \(2, 2\)"),
    (dict(inputs=2, outputs=1, input_bounds=[0, 1]), r"input_bounds must have shape \(2, 2\)"),
    (dict(inputs=3, outputs=1, input_bounds=G.Rectangle([0, 0], [1, 1]).bbox), r"input_bounds must have shape"),
    (dict(inputs=2, outputs=1, input_bounds=[[0, 1], [1, 1]]), "input_bounds must have lower < upper.*coordinate 1"),
    (dict(inputs=2, outputs=1, input_bounds=[[0, 0], [1, np.inf]]), "input_bounds must be finite"),
    (dict(inputs=2, outputs=1, input_bounds="box"), "input_bounds must be a"),
    (dict(inputs=2, outputs=1, embedding=nn.Tanh()), "embedding must have a positive integer attribute `outputs`"),
    (dict(inputs=2, outputs=1, embedding=FourierFeatures(3, 4)), r"embedding.inputs = 3 must equal inputs = 2"),
    (dict(inputs=2, outputs=1, embedding="fourier"), "embedding must be an nn.Module or None"),
])
@pytest.mark.parametrize("cls", [MLP, ModifiedMLP])
def test_construction_errors_name_the_argument(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_forward_checks_the_last_dimension():
    net = MLP(2, 1, width=4, depth=1, input_bounds=[[0, 0], [1, 1]])
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 2\) \(last dimension = inputs = 2\); "
                                         r"got shape \(5, 3\)"):
        net(torch.rand(5, 3))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        net(torch.tensor(1.0))
    with pytest.raises(TypeError, match="x must be a tensor"):
        net(np.zeros((5, 2)))


@pytest.mark.parametrize("make", [
    lambda: MLP(2, 3, width=16, depth=3, input_bounds=[[-1, 0], [1, 2]]),
    lambda: ModifiedMLP(2, 3, width=16, depth=3),
    lambda: MLP(2, 3, width=16, depth=2, embedding=FourierFeatures(2, 5, seed=0)),
    lambda: MLP(2, 3, width=16, depth=2, embedding=PeriodicEmbedding(2, {0: 2.0})),
])
def test_vmap_jacrev_matches_autograd(make):
    torch.manual_seed(1)
    net = make().double()
    x = torch.rand(6, 2, dtype=torch.float64)
    jac = torch.func.vmap(torch.func.jacrev(net))(x)  # (6, 3, 2): d out_i / d x_j per point
    assert jac.shape == (6, 3, 2)
    xr = x.clone().requires_grad_(True)
    y = net(xr)
    expected = torch.stack([torch.autograd.grad(y[:, i].sum(), xr, retain_graph=True)[0] for i in range(3)], dim=1)
    torch.testing.assert_close(jac, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(torch.func.vmap(net)(x), net(x), rtol=0, atol=1e-14)


def test_package_docstring_example():
    result = doctest.testmod(pinnkit.nets)
    assert result.attempted > 0 and result.failed == 0
