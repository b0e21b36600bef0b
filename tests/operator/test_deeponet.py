"""DeepONet: the branch-trunk contraction, aligned against unaligned points, several outputs, specs, errors."""

from __future__ import annotations

import pytest
import torch

from pinnkit.nets import DeepONet, build_net, net_spec


def make(k=1, multi_output="split", seed=0):
    torch.manual_seed(seed)
    return DeepONet([5, 8, 8, 6], [2, 8, 8, 6], outputs=k, multi_output=multi_output).double()


@pytest.mark.parametrize("multi_output", ["split", "independent"])
def test_output_is_branch_dot_trunk_plus_bias(multi_output):
    net = make(k=2, multi_output=multi_output)
    with torch.no_grad():
        net.bias.copy_(torch.tensor([0.3, -0.7]))
    v, x = torch.randn(3, 5, dtype=torch.float64), torch.rand(4, 2, dtype=torch.float64)
    u = net(v, x)
    b, t = net.branch_features(v), net.trunk_features(x)  # (M, k, p), (N, k, p)
    manual = torch.zeros(3, 4, 2, dtype=torch.float64)
    for m in range(3):
        for n in range(4):
            for j in range(2):
                manual[m, n, j] = (b[m, j] * t[n, j]).sum() + net.bias[j]
    assert u.shape == (3, 4, 2)
    torch.testing.assert_close(u, manual, rtol=0, atol=1e-14)


@pytest.mark.parametrize("multi_output", ["split", "independent"])
def test_aligned_equals_unaligned_with_copied_points(multi_output):
    net = make(k=3, multi_output=multi_output)
    v, x = torch.randn(4, 5, dtype=torch.float64), torch.rand(7, 2, dtype=torch.float64)
    torch.testing.assert_close(net(v, x), net(v, x.expand(4, 7, 2)), rtol=0, atol=1e-14)
    y = torch.rand(4, 7, 2, dtype=torch.float64)  # distinct points per function: row m of y only for function m
    u = net(v, y)
    for m in range(4):
        torch.testing.assert_close(u[m], net(v[m:m + 1], y[m])[0], rtol=0, atol=1e-14)


def test_independent_outputs_use_their_own_networks():
    net = make(k=2, multi_output="independent")
    v, x = torch.randn(2, 5, dtype=torch.float64), torch.rand(3, 2, dtype=torch.float64)
    net(v, x)[..., 0].sum().backward()
    assert all(p.grad is None or not p.grad.any() for p in [*net.branches[1].parameters(), *net.trunks[1].parameters()])
    assert any(p.grad.abs().sum() > 0 for p in net.branches[0].parameters())


@pytest.mark.parametrize("multi_output", ["split", "independent"])
def test_spec_rebuilds_the_same_network(multi_output):
    net = DeepONet([5, 8, 6], [2, 8, 8, 6], outputs=2, multi_output=multi_output, trunk_bounds=[[0, 0], [1, 2]],
                   activation="sin", trunk_activation_last=False)
    spec = net_spec(net)
    again = build_net(spec["class"], spec["config"])
    again.load_state_dict(net.state_dict())
    v, x = torch.randn(3, 5), torch.rand(4, 2)
    assert torch.equal(net(v, x), again(v, x))


@pytest.mark.parametrize("kwargs, message", [
    ({"branch": [5, 8, 6], "trunk": [2, 8, 7]}, "same number of features"),
    ({"branch": [5, 6], "trunk": [2, 8, 6]}, "at least one hidden layer"),
    ({"branch": [5, 8, 9, 6], "trunk": [2, 8, 6]}, "same width"),
    ({"branch": [5, 8, 6], "trunk": [2, 8, 6], "multi_output": "both"}, "multi_output must be one of"),
    ({"branch": [5, 8, 6], "trunk": [2, 8, 6], "outputs": 0}, "outputs must be a positive integer"),
])
def test_construction_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DeepONet(**kwargs)


def test_call_errors():
    net = make()
    with pytest.raises(ValueError, match=r"v must be sensor values of shape \(M functions, 5 sensors\)"):
        net(torch.randn(3, 4, dtype=torch.float64), torch.rand(2, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"x must be points of shape \(N, 2\)"):
        net(torch.randn(3, 5, dtype=torch.float64), torch.rand(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="one set per function"):
        net(torch.randn(3, 5, dtype=torch.float64), torch.rand(2, 4, 2, dtype=torch.float64))
