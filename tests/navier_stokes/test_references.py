"""The closed-form Navier–Stokes references: residuals by float64 finite differences (independent of the
derivative engine), numpy and torch inputs agreeing, known values, and argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pinnkit.pde.references import (
    KOVASZNAY_DOMAIN,
    beltrami_solution,
    kovasznay_lambda,
    kovasznay_solution,
    taylor_green_solution,
)


def fd_residual(fn, points: np.ndarray, nu: float, dim: int, steady: bool, h: float = 1e-4) -> np.ndarray:
    """Navier–Stokes residuals (N, dim + 1) of ``fn`` (velocity then pressure columns) by 4th-order central
    differences in float64."""
    def d(k: int, order: int) -> np.ndarray:
        e = np.zeros(points.shape[1])
        e[k] = h
        f = [fn(points + j * e) for j in (-2, -1, 0, 1, 2)]
        if order == 1:
            return (f[0] - 8 * f[1] + 8 * f[3] - f[4]) / (12 * h)
        return (-f[0] + 16 * f[1] - 30 * f[2] + 16 * f[3] - f[4]) / (12 * h * h)

    value = fn(points)
    first = [d(k, 1) for k in range(dim)]
    lap = sum(d(k, 2) for k in range(dim))
    out = []
    for i in range(dim):
        r = sum(value[:, j] * first[j][:, i] for j in range(dim)) + first[i][:, dim] - nu * lap[:, i]
        if not steady:
            r = r + d(dim, 1)[:, i]
        out.append(r)
    out.append(sum(first[j][:, j] for j in range(dim)))
    return np.stack(out, axis=1)


def test_kovasznay_by_finite_differences():
    rng = np.random.default_rng(0)
    lo, hi = np.array(KOVASZNAY_DOMAIN)
    x = lo + (hi - lo) * rng.random((200, 2))
    assert np.abs(fd_residual(kovasznay_solution, x, 1 / 20, 2, True)).max() < 1e-6
    assert np.abs(fd_residual(kovasznay_solution, x, 1 / 25, 2, True)).max() > 1e-2  # sensitive to nu


def test_taylor_green_by_finite_differences():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-1, 1, (200, 2)), rng.uniform(0, 1, (200, 1))], axis=1)
    for drift in ((0.0, 0.0), (0.7, -0.4)):
        def fn(p, drift=drift):
            return taylor_green_solution(p, 0.05, wavenumber=math.pi, amplitude=1.3, drift=drift)
        assert np.abs(fd_residual(fn, x, 0.05, 2, False)).max() < 1e-6


def test_beltrami_by_finite_differences():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.uniform(-1, 1, (200, 3)), rng.uniform(0, 1, (200, 1))], axis=1)
    assert np.abs(fd_residual(beltrami_solution, x, 1.0, 3, False)).max() < 1e-5
    for a, d, nu in ((math.pi / 4, math.pi / 2, 0.1), (0.5, 1.5, 0.3)):  # Ethier and Steinman's own a, d
        def fn(p, a=a, d=d, nu=nu):
            return beltrami_solution(p, nu, a=a, d=d)
        assert np.abs(fd_residual(fn, x, nu, 3, False)).max() < 1e-5


def test_known_values():
    assert kovasznay_lambda(20) == pytest.approx(10 - math.sqrt(100 + 4 * math.pi**2), rel=1e-15)
    lam = kovasznay_lambda(40)
    assert lam * lam - 40 * lam == pytest.approx(4 * math.pi**2, rel=1e-12)
    lam20 = kovasznay_lambda(20)
    assert lam20 < 0  # u = 1 - exp(lam x) cos(2 pi y): at y = 1/4 the cosine vanishes and the sine is 1
    np.testing.assert_allclose(kovasznay_solution([[0.0, 0.25]]), [[1, lam20 / (2 * math.pi), 0]], atol=1e-15)
    # Taylor-Green: at t = 0 and x = 0 the velocity is (0 + U, -A sin(0) + V), p = -(A^2/4)(1 + cos 2ky)
    np.testing.assert_allclose(taylor_green_solution([[0.0, 0.3, 0.0]], 0.1, amplitude=2.0, drift=(1.0, 0.5)),
                               [[1 + 2 * math.sin(0.3), 0.5, -(1 + math.cos(0.6))]], rtol=1e-14)
    # Beltrami at the origin, t = 0: u = v = w = -a (0 + 1) = -1, p = -(1/2)(3 + 0) = -1.5; decays as exp(-t)
    np.testing.assert_allclose(beltrami_solution([[0.0, 0, 0, 0], [0, 0, 0, 1]]),
                               [[-1, -1, -1, -1.5], [-math.exp(-1)] * 3 + [-1.5 * math.exp(-2)]], rtol=1e-14)


def test_numpy_and_torch_inputs_agree():
    x = np.random.default_rng(3).uniform(-0.5, 1, (20, 4))
    for fn, cols in ((kovasznay_solution, 2), (lambda p: taylor_green_solution(p, 0.1, drift=(1, 1)), 3),
                     (beltrami_solution, 4)):
        out_np = fn(x[:, :cols])
        out_t = fn(torch.tensor(x[:, :cols], requires_grad=True))
        assert isinstance(out_np, np.ndarray) and out_np.dtype == np.float64
        assert isinstance(out_t, torch.Tensor) and out_t.requires_grad and out_t.dtype == torch.float64
        np.testing.assert_array_equal(out_np, out_t.detach().numpy())
        assert fn(torch.tensor(x[:, :cols], dtype=torch.float32)).dtype == torch.float32


@pytest.mark.parametrize("call, match", [
    (lambda: kovasznay_solution(np.zeros((3, 3))), r"points must have shape \(N, 2\)"),
    (lambda: kovasznay_solution(np.zeros((3, 2)), re=0), "re must be a positive"),
    (lambda: taylor_green_solution(np.zeros((3, 3)), -1.0), "nu must be a positive"),
    (lambda: taylor_green_solution(np.zeros((3, 3)), 1.0, wavenumber=0), "wavenumber must be a positive"),
    (lambda: taylor_green_solution(np.zeros((3, 3)), 1.0, drift=(1, 2, 3)), "drift must be a pair"),
    (lambda: beltrami_solution(np.zeros((3, 3))), r"points must have shape \(N, 4\)"),
    (lambda: beltrami_solution(np.zeros((3, 4)), nu=0), "nu must be positive"),
    (lambda: beltrami_solution(np.zeros((3, 4)), a=float("nan")), "a must be a finite number"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
