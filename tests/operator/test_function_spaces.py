"""Input-function spaces: covariance of the Gaussian random field, polynomial series, seeding, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pinnkit.functions import ChebyshevSeries, GaussianRandomField, PowerSeries


def test_spectral_factor_reproduces_the_covariance():
    grf = GaussianRandomField(0.2, method="spectral", grid=400, tolerance=1e-12)
    k = grf.covariance(grf.grid, grf.grid)
    assert np.abs(grf.factor @ grf.factor.T - k).max() < 1e-5
    assert 10 < grf.features < 60  # the smooth kernel needs few modes


def test_cholesky_factor_reproduces_the_covariance():
    grf = GaussianRandomField(0.3, interval=(-1, 2), variance=2.0, method="cholesky", grid=300)
    k = grf.covariance(grf.grid, grf.grid)
    assert np.abs(grf.factor @ grf.factor.T - k).max() < 1e-6


@pytest.mark.parametrize("method", ["cholesky", "spectral"])
def test_sample_covariance_matches_the_kernel(method):
    grf = GaussianRandomField(0.2, method=method, variance=1.5, grid=300)
    x = np.array([0.0, 0.13, 0.31, 0.5, 0.77, 1.0])
    values = grf.evaluate(grf.sample(6000, seed=3), x).numpy()
    empirical = np.cov(values.T)
    exact = grf.covariance(x, x)
    # standard error of a covariance estimate is at most variance * sqrt(2 / n)
    assert np.abs(empirical - exact).max() < 5 * 1.5 * np.sqrt(2 / 6000)
    assert np.abs(values.mean(axis=0)).max() < 5 * np.sqrt(1.5 / 6000)


def test_interpolation_is_exact_on_the_grid_and_smooth_between():
    grf = GaussianRandomField(0.2, grid=200)
    f = grf.sample(3, seed=0)
    on_grid = grf.evaluate(f, grf.grid).numpy()
    np.testing.assert_allclose(on_grid, f.numpy() @ grf.factor.T, rtol=0, atol=1e-12)
    fine = np.linspace(0, 1, 2001)  # the cubic interpolant agrees with linear interpolation to O(h^2)
    linear = GaussianRandomField(0.2, grid=200, interpolation="linear")
    diff = grf.evaluate(f, fine) - linear.evaluate(f, fine)
    assert float(diff.abs().max()) < 1e-3


def test_seeding():
    grf = GaussianRandomField(0.5, method="spectral")
    assert torch.equal(grf.sample(4, seed=1), grf.sample(4, seed=1))
    assert not torch.equal(grf.sample(4, seed=1), grf.sample(4, seed=2))
    rng = np.random.default_rng(5)
    first, second = grf.sample(2, rng), grf.sample(2, rng)
    assert not torch.equal(first, second)


def test_chebyshev_series_against_the_trigonometric_definition():
    space = ChebyshevSeries(6, interval=(0, 2), scale=2.0)
    c = space.sample(4, seed=0)
    assert float(c.abs().max()) <= 2.0
    x = np.linspace(0, 2, 11)
    xi = x - 1.0
    expected = sum(c[:, k:k + 1].numpy() * np.cos(k * np.arccos(xi))[None] for k in range(6))
    np.testing.assert_allclose(space.evaluate(c, x).numpy(), expected, rtol=0, atol=1e-12)


def test_power_series_against_horner():
    space = PowerSeries(4, interval=(-1, 1))
    c = space.sample(3, seed=1).numpy()
    x = np.linspace(-1, 1, 7)
    expected = np.stack([np.polyval(row[::-1], x) for row in c])
    np.testing.assert_allclose(space.evaluate(c, x[:, None]).numpy(), expected, rtol=0, atol=1e-13)


@pytest.mark.parametrize("build, message", [
    (lambda: GaussianRandomField(0.0), "length_scale must be a positive"),
    (lambda: GaussianRandomField(0.2, method="fft"), "method must be one of"),
    (lambda: GaussianRandomField(0.2, interval=(1, 0)), "interval must be a pair"),
    (lambda: GaussianRandomField(0.2, interpolation="spline"), "interpolation must be one of"),
    (lambda: ChebyshevSeries(0), "terms must be a positive integer"),
    (lambda: PowerSeries(3, scale=-1), "scale must be a positive"),
])
def test_construction_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_call_errors():
    grf = GaussianRandomField(0.2, method="spectral")
    with pytest.raises(ValueError, match="n must be a positive integer"):
        grf.sample(0)
    with pytest.raises(ValueError, match="seed must be"):
        grf.sample(2, seed=-1)
    with pytest.raises(ValueError, match=r"features must have shape \(M, "):
        grf.evaluate(np.zeros((2, 3)), [0.5])
    with pytest.raises(ValueError, match=r"x must lie in the interval \[0.0, 1.0\]"):
        grf.evaluate(grf.sample(1, seed=0), [1.5])
