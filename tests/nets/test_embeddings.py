"""Fourier features and periodic embeddings: formulas, exact periodicity, determinism, argument checks."""

import math

import numpy as np
import pytest
import torch

from pinnkit.nets import MLP, FourierFeatures, PeriodicEmbedding

TOL = {torch.float32: 1e-6, torch.float64: 1e-12}


def test_fourier_features_formula_and_shapes():
    ff = FourierFeatures(3, 16, scale=2.0, seed=0).double()
    assert ff.outputs == 32 and ff.frequencies.shape == (16, 3)
    assert len(list(ff.parameters())) == 0 and "frequencies" in ff.state_dict()  # a buffer
    x = torch.rand(10, 3, dtype=torch.float64) * 4 - 2
    p = 2 * math.pi * x @ ff.frequencies.T
    torch.testing.assert_close(ff(x), torch.cat([torch.cos(p), torch.sin(p)], dim=1), rtol=0, atol=1e-12)
    assert ff(torch.rand(2, 5, 3, dtype=torch.float64)).shape == (2, 5, 32)
    assert ff(torch.rand(3, dtype=torch.float64)).shape == (32,)


def test_fourier_features_deterministic_given_the_seed():
    a, b, c = FourierFeatures(2, 8, seed=7), FourierFeatures(2, 8, seed=7), FourierFeatures(2, 8, seed=8)
    assert torch.equal(a.frequencies, b.frequencies) and not torch.equal(a.frequencies, c.frequencies)
    state = torch.random.get_rng_state()
    FourierFeatures(2, 8, seed=7)
    assert torch.equal(state, torch.random.get_rng_state())  # a seed leaves the global RNG alone
    torch.manual_seed(3)
    d = FourierFeatures(2, 8)
    torch.manual_seed(3)
    assert torch.equal(d.frequencies, FourierFeatures(2, 8).frequencies)
    # the draw does not depend on the scale beyond the factor
    torch.testing.assert_close(FourierFeatures(2, 8, scale=5.0, seed=7).frequencies, 5.0 * a.frequencies)


def test_fourier_features_distribution():
    b = FourierFeatures(4, 5000, scale=3.0, seed=0).frequencies.double()
    assert abs(float(b.std()) / 3.0 - 1) < 0.03
    assert abs(float(b.mean())) < 4 * 3.0 / math.sqrt(b.numel())


def dyadic_points(n, d, dtype, generator):
    """Points of [-1, 1)^d on the grid 2^-12 Z^d: shifting them by small integers is exact in float32."""
    return torch.randint(-4096, 4096, (n, d), generator=generator).to(dtype) / 4096


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fourier_features_exactly_periodic(dtype):
    """With B of half-integers, gamma has period 2 in every coordinate: bitwise where the shift is exact,
    to 1e-6 (float32) / 1e-12 (float64) for random points (the shifted input itself is rounded)."""
    gen = torch.Generator().manual_seed(0)
    ff = FourierFeatures(2, 3, seed=0).to(dtype)
    ff.load_state_dict({"frequencies": torch.tensor([[1.0, -2.5], [0.5, 3.0], [-1.5, 0.0]])})
    x = dyadic_points(500, 2, dtype, gen)
    for i in range(2):
        for k in (1, -1, 3):
            shifted = x.clone()
            shifted[:, i] += 2.0 * k
            assert torch.equal(ff(shifted), ff(x))
    ff.load_state_dict({"frequencies": torch.tensor([[0.5, -0.5], [0.5, 0.5], [-0.5, 0.0]])})
    x = (torch.rand(2000, 2, generator=gen, dtype=torch.float64) * 2 - 1).to(dtype)
    for i in range(2):
        shifted = x.clone()
        shifted[:, i] = torch.where(x[:, i] >= 0, x[:, i] - 2.0, x[:, i] + 2.0)  # staying in [-1, 1]
        assert float((ff(shifted) - ff(x)).abs().max()) <= TOL[dtype]


def test_fourier_features_periodic_along_the_lattice_of_b():
    """For a square B, shifts delta with integer delta B^T are periods."""
    ff = FourierFeatures(2, 2, scale=1.5, seed=4).double()
    b = ff.frequencies
    delta = torch.linalg.solve(b, torch.tensor([[1.0, -2.0], [3.0, 1.0]], dtype=torch.float64)).T  # rows: shifts
    x = torch.rand(200, 2, dtype=torch.float64)
    for d in delta:
        assert float((ff(x + d) - ff(x)).abs().max()) <= 1e-12


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("periods", [{0: 2.0}, {1: 1.0, 2: 2 * math.pi}, {0: 0.3, 2: 5.0}])
def test_periodic_embedding_exactly_periodic(dtype, periods):
    """Points within a period of the origin, shifted by one period towards the other side of the origin (so the
    shifted points are as small as the points); in float64 also by +-1 and +-2 periods from further away."""
    emb = PeriodicEmbedding(3, periods)
    gen = torch.Generator().manual_seed(1)
    scale = torch.tensor([periods.get(i, 1.0) for i in range(3)], dtype=torch.float64)
    x = ((torch.rand(2000, 3, generator=gen, dtype=torch.float64) * 2 - 1) * scale).to(dtype)
    y = emb(x)
    assert y.dtype == dtype and y.shape == (2000, 3 + len(periods))
    for i, p in periods.items():
        shifted = x.clone()
        shifted[:, i] = torch.where(x[:, i] >= 0, x[:, i] - p, x[:, i] + p)
        assert float((emb(shifted) - y).abs().max()) <= TOL[dtype]
    if dtype == torch.float64:
        x = 3 * x
        for i, p in periods.items():
            for k in (1, -1, 2, -2):
                shifted = x.clone()
                shifted[:, i] += k * p
                assert float((emb(shifted) - emb(x)).abs().max()) <= TOL[dtype]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_periodic_embedding_bitwise_periodic_for_exact_shifts(dtype):
    emb = PeriodicEmbedding(2, {0: 0.5, 1: 4.0})
    x = dyadic_points(500, 2, dtype, torch.Generator().manual_seed(2))
    for i, p in ((0, 0.5), (1, 4.0)):
        for k in (1, -1, 2):
            shifted = x.clone()
            shifted[:, i] += k * p
            assert torch.equal(emb(shifted), emb(x))


def test_periodic_embedding_layout_and_values():
    emb = PeriodicEmbedding(4, {2: 4.0, 0: 2.0})
    assert emb.outputs == 6 and emb.periods == {0: 2.0, 2: 4.0}
    x = torch.rand(5, 4, dtype=torch.float64) * 10 - 5
    expected = torch.stack([torch.cos(math.pi * x[:, 0]), torch.sin(math.pi * x[:, 0]), x[:, 1],
                            torch.cos(math.pi / 2 * x[:, 2]), torch.sin(math.pi / 2 * x[:, 2]), x[:, 3]], dim=1)
    torch.testing.assert_close(emb(x), expected, rtol=0, atol=1e-13)
    assert torch.equal(emb(x)[:, [2, 5]], x[:, [1, 3]])  # pass-through coordinates are untouched
    assert emb(torch.rand(2, 3, 4)).shape == (2, 3, 6)
    assert PeriodicEmbedding(1, [(0, 1.0)]).outputs == 2


def test_periodic_embedding_derivatives_are_periodic():
    emb = PeriodicEmbedding(2, {0: 2.0})
    net = MLP(emb.outputs, 1, width=8, depth=2).double()
    x = torch.rand(20, 2, dtype=torch.float64).requires_grad_(True)
    xs = (x.detach() + torch.tensor([2.0, 0.0], dtype=torch.float64)).requires_grad_(True)
    g = torch.autograd.grad(net(emb(x)).sum(), x)[0]
    gs = torch.autograd.grad(net(emb(xs)).sum(), xs)[0]
    torch.testing.assert_close(g, gs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("make,match", [
    (lambda: FourierFeatures(0, 4), "inputs must be a positive integer"),
    (lambda: FourierFeatures(2, 0), "features must be a positive integer"),
    (lambda: FourierFeatures(2, 4, scale=0.0), "scale must be a positive finite"),
    (lambda: FourierFeatures(2, 4, scale="big"), "scale must be a positive finite number; got 'big'"),
    (lambda: FourierFeatures(2, 4, seed=-1), "seed must be a non-negative integer or None"),
    (lambda: FourierFeatures(2, 4, seed=1.5), "seed must be a non-negative integer or None"),
    (lambda: PeriodicEmbedding(2, {2: 1.0}), r"periods: coordinate index must be an integer in \[0, 2\)"),
    (lambda: PeriodicEmbedding(2, {0: 0.0}), "periods: the period of coordinate 0 must be a positive finite"),
    (lambda: PeriodicEmbedding(2, {0: np.inf}), "period of coordinate 0 must be a positive finite"),
    (lambda: PeriodicEmbedding(2, {}), "periods must name at least one coordinate"),
    (lambda: PeriodicEmbedding(2, 2.0), "periods must be a dict"),
    (lambda: PeriodicEmbedding(2, [(0, 1.0), (0, 2.0)]), "coordinate 0 is given twice"),
    (lambda: PeriodicEmbedding(2, [(0, 1.0, 2.0)]), "periods must map coordinate indices to periods"),
    (lambda: PeriodicEmbedding(0, {0: 1.0}), "inputs must be a positive integer"),
])
def test_errors_name_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_forward_checks_the_last_dimension():
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 2\)"):
        FourierFeatures(2, 4)(torch.rand(3, 3))
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 3\)"):
        PeriodicEmbedding(3, {0: 1.0})(torch.rand(3, 2))
