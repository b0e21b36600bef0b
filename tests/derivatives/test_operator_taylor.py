"""Taylor-mode (jet) derivatives of DeepONets equal the per-function reverse-mode loop to round-off in float64:
values, derivatives of orders 1 to 4 (pure and mixed) of two outputs, and the parameter gradients of a loss built
from them; the activation derivatives equal repeated autograd; the Faà di Bruno terms have the known counts; the
``"taylor"`` operator backend trains exactly like ZCS and refuses what it cannot propagate through."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import pinnkit as pk
from pinnkit.derivatives import AutogradDerivatives, TaylorDerivatives
from pinnkit.derivatives.multi_index import faa_di_bruno, jet_closure
from pinnkit.nets import DeepONet
from pinnkit.nets.activation_derivatives import SMOOTH_ACTIVATIONS, activation_derivatives
from pinnkit.nets.activations import activation
from tests.operator.test_operator_problem import diffusion_reaction_problem

ALPHAS = [(0,), (1,), (0, 0), (0, 1), (1, 1), (0, 0, 1), (1, 1, 1), (0, 0, 0, 0), (0, 0, 1, 1), (0, 1, 1, 1)]


def setup(act: str, multi_output: str, seed: int = 0):
    torch.manual_seed(seed)
    net = DeepONet([6, 12, 12, 8], [2, 12, 12, 8], outputs=2, multi_output=multi_output, activation=act,
                   trunk_bounds=[[0.0, -1.0], [2.0, 1.0]]).double()
    with torch.no_grad():
        net.bias.copy_(torch.tensor([0.3, -0.2]))
    v = torch.randn(3, 6, dtype=torch.float64)
    x = torch.rand(9, 2, dtype=torch.float64) * torch.tensor([2.0, 2.0]) - torch.tensor([0.0, 1.0])
    return net, v, x


def loss_of(fields: dict) -> torch.Tensor:
    return sum((k + 1) * f.square().mean() for k, f in enumerate(fields.values()))


@pytest.mark.parametrize("act", SMOOTH_ACTIVATIONS)
@pytest.mark.parametrize("multi_output", ["split", "independent"])
def test_taylor_equals_per_function_loop(act, multi_output):
    net, v, x = setup(act, multi_output)
    taylor = TaylorDerivatives(net, v, x, ALPHAS)
    loops = [AutogradDerivatives(lambda p, i=i: net(v[i:i + 1], p)[0], x) for i in range(len(v))]
    got, expected = {}, {}
    for j in range(2):
        got[j, ()] = taylor(j)
        expected[j, ()] = torch.stack([engine(j) for engine in loops])
        for alpha in ALPHAS:
            got[j, alpha] = taylor(j, alpha)
            expected[j, alpha] = torch.stack([engine(j, alpha) for engine in loops])  # (M, N)
    assert taylor.requested == set(ALPHAS)  # one pass: nothing had to be added
    for key, value in expected.items():
        scale = float(value.detach().abs().max())
        assert got[key].shape == (3, 9) and scale > 1e-8, key  # a real derivative, not a zero field
        err = float((got[key] - value).detach().abs().max()) / max(scale, 1.0)
        assert err < 1e-12, (key, err)
    params = list(net.parameters())
    g_taylor = torch.autograd.grad(loss_of(got), params)
    g_loop = torch.autograd.grad(loss_of(expected), params)
    for a, b in zip(g_taylor, g_loop, strict=True):
        assert float((a - b).abs().max()) <= 1e-12 * max(1.0, float(b.abs().max()))


def test_combination_and_late_requests():
    """A linear combination formed on the trunk jets, a multi-index not in the first pass (an extra pass), and a
    derivative with respect to a trainable coefficient, against separately computed fields."""
    net, v, x = setup("tanh", "split")
    taylor = TaylorDerivatives(net, v, x, [(1,)])
    c = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    combined = taylor.combine(1, [((1,), 1.0), ((0, 0), -0.01), ((0, 1, 1), c)])
    assert taylor.requested == {(1,), (0, 0), (0, 1, 1)}
    loops = [AutogradDerivatives(lambda p, i=i: net(v[i:i + 1], p)[0], x) for i in range(len(v))]
    expected = torch.stack([e(1, (1,)) - 0.01 * e(1, (0, 0)) + c * e(1, (0, 1, 1)) for e in loops])
    torch.testing.assert_close(combined, expected, rtol=0, atol=1e-12)
    params = [c, *(p for name, p in net.named_parameters() if name != "bias")]  # derivatives ignore the bias
    g1 = torch.autograd.grad(combined.square().sum(), params)
    g2 = torch.autograd.grad(expected.square().sum(), params)
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", SMOOTH_ACTIVATIONS)
def test_activation_derivatives_equal_repeated_autograd(name):
    module = activation(name)
    z = torch.linspace(-4, 4, 41, dtype=torch.float64)
    if name == "softplus":  # torch's softplus is the identity above its threshold 20
        z = torch.cat([z, torch.tensor([19.5, 20.5, 30.0], dtype=torch.float64)])
    z.requires_grad_(True)
    closed = activation_derivatives(module, z, 5)
    y = module(z)
    for k in range(6):
        torch.testing.assert_close(closed[k], y, rtol=1e-12, atol=1e-13, msg=f"{name}: derivative {k}")
        (y,) = torch.autograd.grad(y.sum(), z, create_graph=True)


@pytest.mark.parametrize("name", ["relu", "elu"])
def test_non_smooth_activations_are_refused(name):
    with pytest.raises(ValueError, match=f"got '{name}' \\(not smooth"):
        activation_derivatives(activation(name), torch.zeros(3), 2)
    with pytest.raises(ValueError, match="DeepONet trunk 0.activation"):
        TaylorDerivatives(DeepONet([3, 4, 4], [1, 4, 4], activation=name), torch.zeros(2, 3), torch.zeros(5, 1))


def test_faa_di_bruno_terms_and_closure():
    for n in range(1, 6):  # the counts over all set partitions of n positions sum to the Bell number
        assert sum(count for count, _, _ in faa_di_bruno((0,) * n)) == [1, 1, 2, 5, 15, 52][n]
    # d^2 sigma(z) / dx dt = sigma' z_xt + sigma'' z_x z_t;  d^4 / dx^4 has the terms 1, 4, 3, 6, 1
    assert set(faa_di_bruno((0, 1))) == {(1, 1, ((0, 1),)), (1, 2, ((0,), (1,)))}
    assert sorted(c for c, _, _ in faa_di_bruno((0, 0, 0, 0))) == [1, 1, 3, 4, 6]
    assert jet_closure([(0, 0, 1)]) == [(), (0,), (1,), (0, 0), (0, 1), (0, 0, 1)]
    # against the one-variable Faà di Bruno formula: d^n/dx^n exp(sin x) at x = 0.3
    x0, n = 0.3, 4
    z = [math.sin(x0), math.cos(x0), -math.sin(x0), -math.cos(x0), math.sin(x0)]  # z = sin x and its derivatives
    total = sum(count * math.exp(z[0]) * math.prod(z[len(b)] for b in blocks)
                for count, _, blocks in faa_di_bruno((0,) * n))
    xt = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    y = torch.exp(torch.sin(xt))
    for _ in range(n):
        (y,) = torch.autograd.grad(y, xt, create_graph=True)
    assert abs(total - float(y.detach())) < 1e-12


def test_taylor_backend_trains_like_zcs_also_compiled():
    """Five float64 Adam steps (net and a PDE parameter) through the Taylor backend, eager and with the trunk's jet
    pass compiled, land on the same parameters as through ZCS; the first call learns the multi-indices, later calls
    propagate them in one pass."""
    runs = {}
    for backend, compile in (("taylor", False), ("taylor", True), ("zcs", False)):
        torch.manual_seed(0)
        problem = diffusion_reaction_problem(k_param=True)
        net = DeepONet([10, 16, 16], [2, 16, 16], trunk_bounds=problem.domain.bbox)
        trainer = pk.OperatorTrainer(problem, net, functions=8, batch_size=4,
                                     backend=pk.Backend(backend, compile=compile), lr=1e-2, dtype=torch.float64,
                                     sampler=pk.sampling.Resample(30, every=2), seed=3)
        trainer.fit(5, progress=False)
        runs[backend, compile] = [p.detach().clone() for p in trainer.trainable_parameters()]
        if backend == "taylor":
            assert trainer.evaluator.alphas == {(0,), (1,), (0, 0), (0, 1)}
        if compile:  # after the eager first step, one graph per step (evaluation, gradient and update), and the
            # evaluation of the last record
            assert trainer.evaluator.traced and trainer.evaluator.backend.compiled.compilations == 2
            assert trainer._fused.steps == 4
    for key in (("taylor", False), ("taylor", True)):
        for a, b in zip(runs[key], runs["zcs", False], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_compile_needs_the_taylor_backend_and_a_bool():
    problem = diffusion_reaction_problem()
    net = DeepONet([10, 8, 8], [2, 8, 8])
    with pytest.raises(ValueError, match="compile=True needs backend 'taylor'.*got 'zcs'"):
        pk.OperatorTrainer(problem, net, backend=pk.Backend("zcs", compile=True))
    with pytest.raises(ValueError, match="compile must be True or False; got 'yes'"):
        pk.OperatorTrainer(problem, net, backend=pk.Backend("taylor", compile="yes"))
    with pytest.raises(ValueError, match=r"backend must be one of \('zcs', 'loop', 'replicated', 'taylor'\) for an "
                                         r"operator problem; got 'autograd'"):
        pk.OperatorTrainer(problem, net, backend="autograd")


class Wrapped(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, v, x):
        return x[..., :1] * self.net(v, x)


def test_unsupported_networks_are_refused_at_construction():
    problem = diffusion_reaction_problem()
    with pytest.raises(ValueError, match="backend 'taylor': net: the operator 'taylor' backend needs .*"
                                         "Wrapped has none"):
        pk.OperatorTrainer(problem, Wrapped(DeepONet([10, 8, 8], [2, 8, 8])), backend="taylor")
    with pytest.raises(ValueError, match="got 'relu'"):
        pk.OperatorTrainer(problem, DeepONet([10, 8, 8], [2, 8, 8], activation="relu"), backend="taylor")
    net = DeepONet([10, 8, 8], [2, 8, 8])
    net.trunks[0].activation = nn.Softplus(beta=2.0)
    with pytest.raises(ValueError, match="non-default arguments"):
        pk.OperatorTrainer(problem, net, backend="taylor")
