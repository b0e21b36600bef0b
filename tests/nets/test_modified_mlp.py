"""ModifiedMLP against a hand-written forward pass of its equations."""

import math

import torch

from pinnkit.nets import FourierFeatures, ModifiedMLP


def reference(net, x):
    """U, V, H_1, then Z_k and H_{k+1} = (1 - Z_k) U + Z_k V, written out from the weights."""
    s = torch.tanh

    def affine(layer, h):
        return h @ layer.weight.T + layer.bias

    u, v = s(affine(net.encoder_u, x)), s(affine(net.encoder_v, x))
    h = s(affine(net.hidden[0], x))
    for k in range(1, net.depth):
        z = s(affine(net.hidden[k], h))
        h = (1 - z) * u + z * v
    return affine(net.output, h)


def test_matches_equations_float64():
    torch.manual_seed(0)
    for depth in (1, 2, 4):
        net = ModifiedMLP(3, 2, width=20, depth=depth).double()
        x = torch.rand(50, 3, dtype=torch.float64) * 2 - 1
        torch.testing.assert_close(net(x), reference(net, x), rtol=0, atol=1e-12)


def test_layers_and_glorot_init():
    torch.manual_seed(0)
    net = ModifiedMLP(3, 2, width=800, depth=3)
    assert len(net.hidden) == 3
    assert [(m.in_features, m.out_features) for m in net.hidden] == [(3, 800), (800, 800), (800, 800)]
    assert net.encoder_u.in_features == net.encoder_v.in_features == 3
    w = net.hidden[1].weight.detach().double()
    assert abs(float(w.std()) / math.sqrt(2 / 1600) - 1) < 0.1
    for m in [net.encoder_u, net.encoder_v, *net.hidden, net.output]:
        assert torch.equal(m.bias, torch.zeros_like(m.bias))


def test_scaling_and_embedding_come_first():
    torch.manual_seed(0)
    ff = FourierFeatures(2, 4, seed=0)
    net = ModifiedMLP(2, 1, width=8, depth=3, input_bounds=[[0.0, 0.0], [2.0, 4.0]], embedding=ff).double()
    assert net.encoder_u.in_features == 8
    x = torch.rand(10, 2, dtype=torch.float64) * torch.tensor([2.0, 4.0], dtype=torch.float64)
    xi = torch.stack([x[:, 0] - 1, x[:, 1] / 2 - 1], dim=1)
    torch.testing.assert_close(net(x), reference(net, net.embedding(xi)), rtol=0, atol=1e-12)
