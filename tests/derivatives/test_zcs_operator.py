"""ZCS derivatives of DeepONet outputs equal the per-function autograd loop to round-off (float64).

Several output fields, orders 1 to 4 and mixed partials; the lazy linear combinations of
:mod:`pinnkit.pde.linear_combination` equal the same combination of separately computed fields, also with a
trainable coefficient and through the gradient of a loss.
"""

from __future__ import annotations

import pytest
import torch

from pinnkit.derivatives import AutogradDerivatives, LinearCombination, ZCSDerivatives, materialize
from pinnkit.nets import DeepONet

ALPHAS = [(0,), (1,), (0, 0), (0, 1), (1, 1), (0, 0, 1), (1, 1, 1), (0, 0, 0, 0), (0, 0, 1, 1), (0, 1, 1, 1)]


def setup(multi_output: str, seed: int = 0):
    torch.manual_seed(seed)
    net = DeepONet([6, 12, 12, 8], [2, 12, 12, 8], outputs=2, multi_output=multi_output).double()
    v = torch.randn(3, 6, dtype=torch.float64)
    x = torch.rand(9, 2, dtype=torch.float64)
    return net, v, x


@pytest.mark.parametrize("multi_output", ["split", "independent"])
def test_zcs_equals_per_function_loop(multi_output):
    net, v, x = setup(multi_output)
    zcs = ZCSDerivatives(lambda p: net(v, p), x)
    loops = [AutogradDerivatives(lambda p, i=i: net(v[i:i + 1], p)[0], x) for i in range(len(v))]
    worst = 0.0
    for j in range(2):
        for alpha in ALPHAS:
            expected = torch.stack([engine(j, alpha) for engine in loops])  # (M, N)
            got = zcs(j, alpha)
            assert got.shape == (3, 9)
            scale = float(expected.detach().abs().max())
            assert scale > 1e-6, (j, alpha)  # a real derivative, not a zero field
            worst = max(worst, float((got - expected).abs().max()) / max(scale, 1.0))
    assert worst < 1e-12, worst


def test_zcs_derivatives_are_those_of_finite_differences():
    """An independent check of the mixed derivative u_xt by central differences in float64."""
    net, v, x = setup("split")
    zcs = ZCSDerivatives(lambda p: net(v, p), x)
    h = 1e-4
    e = torch.eye(2, dtype=torch.float64) * h
    with torch.no_grad():
        fd = (net(v, x + e[0] + e[1]) - net(v, x + e[0] - e[1]) - net(v, x - e[0] + e[1])
              + net(v, x - e[0] - e[1])) / (4 * h * h)
    torch.testing.assert_close(zcs(1, (0, 1)).detach(), fd[..., 1], rtol=0, atol=1e-6)


def lazy(engine, j, alpha):
    return LinearCombination(engine, {(j, alpha): 1.0}, None, lambda t: t, None)


def test_lazy_combination_equals_the_sum_of_fields():
    net, v, x = setup("split")
    engine = ZCSDerivatives(lambda p: net(v, p), x)
    nu = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    u = engine.u[..., 0]
    rhs = torch.randn(3, 9, dtype=torch.float64)
    combo = lazy(engine, 0, (1,)) - 0.01 * lazy(engine, 0, (0, 0)) + nu * lazy(engine, 1, (0,)) + u**2 - rhs
    assert isinstance(combo, LinearCombination)
    value = materialize(combo)
    reference = ZCSDerivatives(lambda p: net(v, p), x)
    expected = reference(0, (1,)) - 0.01 * reference(0, (0, 0)) + nu * reference(1, (0,)) + reference.u[..., 0]**2 - rhs
    torch.testing.assert_close(value, expected, rtol=0, atol=1e-13)
    # the gradients of a loss, with respect to the net and the coefficient, agree too
    g1 = torch.autograd.grad(value.square().mean(), [nu, *net.parameters()])
    g2 = torch.autograd.grad(expected.square().mean(), [nu, *net.parameters()])
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-11, atol=1e-13)


def test_lazy_combination_behaves_like_a_tensor_elsewhere():
    net, v, x = setup("split")
    engine = ZCSDerivatives(lambda p: net(v, p), x)
    field = engine(0, (0,))
    a = lazy(engine, 0, (0,))
    assert a.shape == (3, 9) and a.dtype == torch.float64
    torch.testing.assert_close(torch.sin(a), torch.sin(field))
    torch.testing.assert_close(a * field, field * field)
    torch.testing.assert_close(field * a, field * field)
    torch.testing.assert_close(a**2, field**2)
    torch.testing.assert_close(a[1], field[1])
    torch.testing.assert_close(materialize(2.0 - a), 2.0 - field)
    torch.testing.assert_close(materialize(field - a), torch.zeros_like(field))
    torch.testing.assert_close(materialize(a / 4), field / 4)
    torch.testing.assert_close(abs(a), field.abs())
    assert torch.equal(a > 0, field > 0) and torch.equal(a <= 0, field <= 0)
