"""Stochastic Taylor derivative estimators (pinnkit.derivatives.stochastic, .operators, .stde) against truth.

Truth is reverse mode (AutogradDerivatives) or the multi-index Taylor engine in float64. Statistical checks use
fixed seeds and tolerances stated from the estimator's own spread: a mean over R independent draws is compared
with the exact value to 5 standard errors (sample standard deviation / sqrt(R)).
"""

from __future__ import annotations

import itertools

import pytest
import torch

import pinnkit as pk
from pinnkit.derivatives import Biharmonic, Laplacian, SecondOrder, stochastic
from pinnkit.derivatives.reverse import AutogradDerivatives
from pinnkit.derivatives.taylor import JetDerivatives
from pinnkit.pde.evaluator import Evaluator
from pinnkit.pde.references import TwoBody

F64 = torch.float64


def mlp(d: int, outputs: int = 2, seed: int = 0, **kwargs) -> pk.nets.MLP:
    torch.manual_seed(seed)
    return pk.nets.MLP(d, outputs, width=16, depth=3, **kwargs).double()


def points(n: int, d: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(n, d, generator=torch.Generator().manual_seed(seed), dtype=F64) * 1.6 - 0.8


def reverse_second_order(net, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """sum_ij A_ij d_ij u, every output, by reverse mode: (N, k)."""
    e = AutogradDerivatives(net, x)
    d, k = x.shape[-1], e.u.shape[-1]
    return torch.stack([sum(a[i, j] * e(o, tuple(sorted((i, j)))) for i in range(d) for j in range(d))
                        for o in range(k)], -1).detach()


def hessians(net, x: torch.Tensor) -> torch.Tensor:
    """(N, d, d) Hessians of output 0 by reverse mode."""
    e = AutogradDerivatives(net, x)
    d = x.shape[-1]
    return torch.stack([torch.stack([e(0, tuple(sorted((i, j)))) for j in range(d)], -1) for i in range(d)],
                       -2).detach()


class Quadratic(torch.nn.Module):
    """u(x) = x^T Q x + b^T x (Hessian 2 Q), no directional jet: the nested forward-mode path."""

    def __init__(self, q: torch.Tensor, b: torch.Tensor):
        super().__init__()
        self.q, self.b = q, b

    def forward(self, x):
        return ((x @ self.q) * x).sum(-1, keepdim=True) + (x @ self.b)[:, None]


# -------------------------------------------------------------------------------------------- exact operators
@pytest.mark.parametrize("d", [1, 4, 10])
def test_exact_operators_by_jets_equal_reverse_mode(d):
    net = mlp(d, input_bounds=[[-1.0] * d, [2.0] * d])
    x = points(5, d)
    eye = torch.eye(d, dtype=F64)
    torch.testing.assert_close(stochastic.laplacian_exact(net, x), reverse_second_order(net, x, eye),
                               atol=1e-10, rtol=0)
    a = torch.randn(d, d, generator=torch.Generator().manual_seed(2), dtype=F64)
    a = a + a.T  # indefinite
    truth = reverse_second_order(net, x, a)
    torch.testing.assert_close(SecondOrder(a).exact(net, x), truth, atol=1e-10, rtol=0)
    torch.testing.assert_close(SecondOrder(factor=a).exact(net, x), reverse_second_order(net, x, a @ a.T),
                               atol=1e-10, rtol=0)
    diagonal = torch.linspace(-1, 2, d, dtype=F64)
    torch.testing.assert_close(SecondOrder(diagonal=diagonal).exact(net, x),
                               reverse_second_order(net, x, torch.diag(diagonal)), atol=1e-10, rtol=0)


def test_exact_laplacian_through_hard_constraint_and_a_plain_function():
    d = 4
    hard = pk.nets.HardConstraint(mlp(d, 1), lambda p: p[:, 0] ** 2, lambda p: 1 - (p * p).sum(-1))
    x = points(6, d)
    truth = reverse_second_order(hard, x, torch.eye(d, dtype=F64))
    torch.testing.assert_close(stochastic.laplacian_exact(hard, x), truth, atol=1e-10, rtol=0)
    torch.testing.assert_close(stochastic.laplacian_exact(lambda p: hard(p), x), truth, atol=1e-10, rtol=0)


def test_biharmonic_exact_equals_taylor_mode_and_every_engine_applies_operators_exactly():
    d = 3
    net = mlp(d)
    x = points(4, d)
    engine = JetDerivatives(net, x, [a for a, _ in Biharmonic().terms(d)])
    truth = torch.stack([engine.apply(Biharmonic(), o) for o in range(2)], -1).detach()
    direct = torch.stack([sum(engine(o, tuple(sorted((i, i, j, j)))) for i in range(d) for j in range(d))
                          for o in range(2)], -1).detach()
    torch.testing.assert_close(truth, direct, atol=1e-10, rtol=0)
    torch.testing.assert_close(stochastic.biharmonic_exact(net, x), truth, atol=1e-10, rtol=0)
    lap = stochastic.laplacian_exact(net, x)
    for name in ("autograd", "zcs", "taylor"):
        e = pk.Backend(name).engine(net, x, [(i, i) for i in range(d)])
        torch.testing.assert_close(torch.stack([e.apply(Laplacian(), o) for o in range(2)], -1), lap,
                                   atol=1e-10, rtol=0)


# -------------------------------------------------------------------------------------------- unbiasedness
@pytest.mark.parametrize("case", ["laplacian-rademacher", "laplacian-gaussian", "second-order", "biharmonic",
                                  "laplacian-per-point"])
def test_estimators_are_unbiased(case):
    d, draws, k = 6, 800, 4
    net = mlp(d)
    x = points(3, d)
    a = torch.randn(d, d, generator=torch.Generator().manual_seed(5), dtype=F64)
    operator, distribution, per_point = {
        "laplacian-rademacher": (Laplacian(), "rademacher", False),
        "laplacian-gaussian": (Laplacian(), "gaussian", False),
        "second-order": (SecondOrder(a + a.T), "rademacher", False),
        "biharmonic": (Biharmonic(), "gaussian", False),
        "laplacian-per-point": (Laplacian(), "rademacher", True),
    }[case]
    exact = operator.exact(net, x).detach()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        samples = torch.stack([operator.estimate(net, x, k, distribution, g, per_point) for _ in range(draws)])
    mean, sem = samples.mean(0), samples.std(0) / draws**0.5
    assert bool((sem > 0).all())
    assert bool(((mean - exact).abs() <= 5 * sem).all()), ((mean - exact) / sem)


def test_biharmonic_refuses_rademacher():
    with pytest.raises(ValueError, match="needs distribution='gaussian'"):
        Biharmonic().estimate(mlp(3), points(2, 3), 4, "rademacher")


# -------------------------------------------------------------------------------------------- quadratics
def test_quadratics_diagonal_hessian_is_exact_for_every_rademacher_draw():
    d = 7
    g = torch.Generator().manual_seed(3)
    q = torch.diag(torch.randn(d, generator=g, dtype=F64))
    u = Quadratic(q, torch.randn(d, generator=g, dtype=F64))
    x = points(5, d)
    trace = 2 * torch.diagonal(q).sum()
    for per_point in (False, True):
        for _ in range(5):  # v^T (2Q) v = 2 sum_i Q_ii v_i^2 = tr(2Q) whenever v_i^2 = 1
            value = stochastic.laplacian_estimate(u, x, 1, "rademacher", g, per_point)
            torch.testing.assert_close(value, trace.expand(5, 1), atol=1e-12, rtol=0)


def test_quadratics_are_exact_in_expectation_over_all_sign_vectors():
    d = 4
    g = torch.Generator().manual_seed(4)
    q = torch.randn(d, d, generator=g, dtype=F64)
    u = Quadratic(q, torch.randn(d, generator=g, dtype=F64))
    x = points(3, d)
    h = q + q.T
    signs = torch.tensor(list(itertools.product((-1.0, 1.0), repeat=d)), dtype=F64)  # E over Rademacher, exactly
    mean = stochastic.directional_derivatives(u, x, signs, 2)[2].mean(1)
    torch.testing.assert_close(mean, torch.trace(h).expand(3, 1), atol=1e-12, rtol=0)
    factor = torch.randn(d, 2, generator=g, dtype=F64)  # tr(L L^T H) from v = L z, z over all signs in R^2
    z = torch.tensor(list(itertools.product((-1.0, 1.0), repeat=2)), dtype=F64)
    mean = stochastic.directional_derivatives(u, x, z @ factor.T, 2)[2].mean(1)
    torch.testing.assert_close(mean, torch.trace(factor.T @ h @ factor).expand(3, 1), atol=1e-12, rtol=0)


# -------------------------------------------------------------------------------------------- variance
def test_variance_falls_as_one_over_directions_and_matches_hutchinson():
    d, draws = 10, 400
    net = mlp(d, 1)
    x = points(8, d)
    h = hessians(net, x)
    off = h - torch.diag_embed(torch.diagonal(h, dim1=-2, dim2=-1))
    single = 2 * (off**2).sum((-2, -1))  # Var of v^T H v, Rademacher v: 2 sum_{i != j} H_ij^2
    g = torch.Generator().manual_seed(7)
    variances = {}
    with torch.no_grad():
        for k in (4, 16):
            samples = torch.stack([stochastic.laplacian_estimate(net, x, k, "rademacher", g)[:, 0]
                                   for _ in range(draws)])
            variances[k] = samples.var(0)
            # the sample variance of R near-normal draws has relative spread sqrt(2 / R) ~ 7% per point
            ratio = variances[k].sum() / (single.sum() / k)
            assert 0.8 < float(ratio) < 1.2, (k, float(ratio))
    ratio = float(variances[4].sum() / variances[16].sum())
    assert 3.0 < ratio < 5.3, ratio


# -------------------------------------------------------------------------------------------- residual API
def test_fields_laplacian_under_every_backend_and_the_stde_backend():
    d = 5
    domain = pk.geometry.Hypersphere([0.0] * d, 1.0)
    problem = pk.Problem(domain, lambda f: f.laplacian("u") + f.u)
    net = mlp(d, 1)
    x = points(16, d) * 0.5
    exact = Evaluator(problem, net, "autograd").pde_residual(x)
    for backend in ("zcs", "taylor", pk.Backend("stde", directions=None)):
        torch.testing.assert_close(Evaluator(problem, net, backend).pde_residual(x), exact, atol=1e-10, rtol=0)
    first = Evaluator(problem, net, pk.Backend("stde", directions=8, seed=3)).pde_residual(x)
    again = Evaluator(problem, net, pk.Backend("stde", directions=8, seed=3)).pde_residual(x)
    torch.testing.assert_close(first, again, atol=0, rtol=0)
    assert float((first - exact).abs().max()) > 1e-8  # an estimate, not the exact value
    engine = pk.Backend("stde", directions=4, seed=0).engine(net, x)
    assert torch.equal(engine.apply(Laplacian(), 0), engine.apply(Laplacian(), 0))  # drawn once per pass


def test_stde_backend_options():
    b = pk.Backend("stde", directions=8, distribution="Gaussian", seed=1, per_point=True)
    assert (b.directions, b.distribution, b.seed, b.per_point) == (8, "gaussian", 1, True)
    assert b == pk.Backend("stde", directions=8, distribution="gaussian", seed=1, per_point=True)
    assert b != pk.Backend("stde") and pk.Backend("stde").directions == 16
    assert repr(pk.Backend("stde", seed=2)) == "Backend('stde', directions=16, seed=2)"
    with pytest.raises(ValueError, match="options of backend 'stde'"):
        pk.Backend("autograd", directions=4)
    with pytest.raises(ValueError, match="directions must be"):
        pk.Backend("stde", directions=0)
    with pytest.raises(ValueError, match="distribution must be one of"):
        pk.Backend("stde", distribution="uniform")


def test_second_order_arguments():
    with pytest.raises(ValueError, match="exactly one of matrix, factor, diagonal"):
        SecondOrder()
    with pytest.raises(ValueError, match="square"):
        SecondOrder(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="dimension 3 applied at points of dimension 2"):
        SecondOrder(torch.eye(3)).exact(mlp(2), points(2, 2))
    assert len(SecondOrder(torch.diag(torch.tensor([1.0, -2.0, 0.0]))).parts) == 2


# -------------------------------------------------------------------------------------------- two-body Poisson
def test_two_body_laplacian_closed_form_equals_reverse_mode():
    body = TwoBody(7, seed=0)
    x = points(5, 7) * 0.5
    truth = reverse_second_order(lambda p: body.solution(p)[:, None], x, torch.eye(7, dtype=F64))[:, 0]
    torch.testing.assert_close(body.laplacian(x), truth, atol=1e-10, rtol=0)


def test_training_a_20_dimensional_two_body_poisson_with_stde_lowers_the_error():
    d = 20
    body = TwoBody(d, seed=0)
    domain = pk.geometry.Hypersphere([0.0] * d, 1.0)
    problem = pk.Problem(domain, lambda f: f.laplacian("u") - body.laplacian(f.points))
    torch.manual_seed(0)
    net = pk.nets.HardConstraint(pk.nets.MLP(d, 1, width=32, depth=2), 0.0, lambda p: 1 - (p * p).sum(-1))
    trainer = pk.Trainer(problem, net, sampler=pk.sampling.Resample(128, every=1), lr=3e-3,
                         backend=pk.Backend("stde", directions=8, seed=0), dtype=torch.float64, seed=0)
    test = domain.sample_interior(512, "random", seed=1, dtype=F64)
    truth = body.solution(test).numpy()

    def error() -> float:
        return pk.metrics.l2_relative_error(trainer.predict(test)[:, 0], truth)

    before = error()
    trainer.fit(150, progress=False)
    after = error()
    assert after < 0.2 * before, (before, after)  # measured: 1.00 -> 0.05


def test_ball_distance_directional_jet_equals_forward_mode():
    d = 6
    net = mlp(d, 1)
    x = points(4, d)
    for center in (None, [0.1] * d):
        dist = pk.nets.BallDistance(1.5, center)
        closed = pk.nets.HardConstraint(net, 0.0, dist)
        generic = pk.nets.HardConstraint(net, 0.0, lambda p, dist=dist: dist(p))
        for v in (torch.randn(3, d, dtype=F64), torch.randn(4, 3, d, dtype=F64)):
            for a, b in zip(closed.directional_jet(x, v, 4), generic.directional_jet(x, v, 4), strict=True):
                torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    assert pk.nets.BallDistance(2.0, [1.0, 0.0]).config == {"radius": 2.0, "center": [1.0, 0.0]}
