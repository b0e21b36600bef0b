"""Polynomial library and STLSQ: exact recovery of known polynomial systems, thresholding, ridge, printing."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
import torch

import pinnkit.dynamics as dyn


def lorenz(u: np.ndarray, sigma=10.0, rho=28.0, beta=8 / 3) -> np.ndarray:
    x, y, z = u.T
    return np.stack([sigma * (y - x), x * (rho - z) - y, x * y - beta * z], axis=1)


def test_library_terms_and_features():
    lib = dyn.PolynomialLibrary(["x", "y", "z"], degree=3)
    assert len(lib) == comb(3 + 3, 3) == len(lib.terms)
    assert lib.terms[:10] == ["1", "x", "y", "z", "x^2", "x y", "x z", "y^2", "y z", "z^2"]
    u = np.random.default_rng(0).normal(size=(5, 3))
    features = lib(u)
    x, y, z = u.T
    for name, column in (("1", np.ones(5)), ("x z", x * z), ("y^2", y**2), ("x y z", x * y * z),
                         ("x^2 y", x**2 * y), ("z^3", z**3)):
        np.testing.assert_allclose(features[:, lib.terms.index(name)], column, rtol=1e-14)
    np.testing.assert_array_equal(lib(torch.from_numpy(u)), features)
    assert dyn.PolynomialLibrary(["a", "b"], 2, include_bias=False).terms == ["a", "b", "a^2", "a b", "b^2"]


def test_stlsq_recovers_the_lorenz_system_exactly_from_clean_data():
    rng = np.random.default_rng(1)
    u = rng.uniform(-20, 20, size=(400, 3)) + np.array([0, 0, 25])
    lib = dyn.PolynomialLibrary(["x", "y", "z"], degree=2)
    model = dyn.SparseRegression(lib, threshold=0.1).fit(u, lorenz(u))
    true = np.zeros((len(lib), 3))
    index = {term: i for i, term in enumerate(lib.terms)}
    true[index["x"], 0], true[index["y"], 0] = -10.0, 10.0
    true[index["x"], 1], true[index["y"], 1], true[index["x z"], 1] = 28.0, -1.0, -1.0
    true[index["x y"], 2], true[index["z"], 2] = 1.0, -8 / 3
    np.testing.assert_allclose(model.coefficients, true, rtol=0, atol=1e-6)
    assert np.count_nonzero(model.coefficients) == 7  # every other term thresholded to exactly zero
    assert model.targets == ("dx/dt", "dy/dt", "dz/dt")
    assert model.coefficient("dy/dt", "x z") == pytest.approx(-1.0, abs=1e-6)
    np.testing.assert_allclose(model.predict(u), lorenz(u), rtol=1e-9, atol=1e-8)


def test_stlsq_recovers_lotka_volterra_interaction_terms():
    rng = np.random.default_rng(2)
    u = rng.uniform(0.1, 5.0, size=(200, 2))
    x, y = u.T
    targets = np.stack([-0.9 * x * y, 0.8 * x * y], axis=1)
    model = dyn.SparseRegression(dyn.PolynomialLibrary(["x", "y"], 3), threshold=0.05).fit(
        u, targets, names=["NN_1", "NN_2"])
    assert model.coefficient("NN_1", "x y") == pytest.approx(-0.9, abs=1e-6)
    assert model.coefficient("NN_2", "x y") == pytest.approx(0.8, abs=1e-6)
    assert str(model) == "NN_1 = -0.9 x y\nNN_2 = 0.8 x y"


def test_thresholding_removes_small_terms_and_refits():
    rng = np.random.default_rng(3)
    features = rng.normal(size=(300, 4))
    y = features @ np.array([2.0, 0.0, -0.03, 1.0]) + 1e-3 * rng.normal(size=300)
    coef = dyn.stlsq(features, y[:, None], threshold=0.1)[:, 0]
    assert coef[1] == 0.0 and coef[2] == 0.0
    refit = np.linalg.lstsq(features[:, [0, 3]], y, rcond=None)[0]  # the surviving terms refitted alone
    np.testing.assert_allclose(coef[[0, 3]], refit, rtol=1e-12)
    dense = dyn.stlsq(features, y[:, None], threshold=0.0)[:, 0]
    np.testing.assert_allclose(dense, np.linalg.lstsq(features, y, rcond=None)[0], rtol=1e-12)


def test_ridge_is_the_closed_form():
    rng = np.random.default_rng(4)
    a, y = rng.normal(size=(50, 3)), rng.normal(size=50)
    coef = dyn.stlsq(a, y[:, None], threshold=0.0, ridge=0.5)[:, 0]
    np.testing.assert_allclose(coef, np.linalg.solve(a.T @ a + 0.5 * np.eye(3), a.T @ y), rtol=1e-12)


def test_to_module_evaluates_the_equations_and_refits_a_copy():
    rng = np.random.default_rng(5)
    u = rng.uniform(0.1, 2.0, size=(50, 2))
    x, y = u.T
    model = dyn.SparseRegression(dyn.PolynomialLibrary(["x", "y"], 2), threshold=0.05).fit(
        u, np.stack([1.3 * x - 0.9 * x * y, 0.8 * x * y - 1.8 * y], 1))
    before = model.coefficients.copy()
    module = model.to_module().double()
    ut = torch.from_numpy(u)
    np.testing.assert_allclose(module(ut).detach().numpy(), model.predict(u), rtol=1e-12)
    # a gradient step changes only the active coefficients, and not the regression's own array
    module(ut).pow(2).sum().backward()
    assert torch.all(module.coefficients.grad[torch.from_numpy(before) == 0] == 0)
    with torch.no_grad():
        module.coefficients -= 0.1 * module.coefficients.grad
    np.testing.assert_array_equal(model.coefficients, before)
    assert not torch.allclose(module.coefficients, torch.from_numpy(before))


def test_printing():
    lib = dyn.PolynomialLibrary(["x", "y"], 2)
    model = dyn.SparseRegression(lib, threshold=0.01)
    model.coefficients = np.array([[0.5, 0.0], [1.3, 0.0], [0.0, -1.8], [0.0, 0.0], [-0.9, 0.8], [0.0, 0.0]])
    model.targets = ("dx/dt", "dy/dt")
    assert model.equations() == ["dx/dt = 0.5 + 1.3 x - 0.9 x y", "dy/dt = -1.8 y + 0.8 x y"]
    model.coefficients[:, 1] = 0.0
    assert model.equations(precision=2)[1] == "dy/dt = 0"


def test_bad_inputs_are_refused_clearly():
    with pytest.raises(ValueError, match="names must be a non-empty sequence"):
        dyn.PolynomialLibrary("xy")
    with pytest.raises(ValueError, match="names must be distinct"):
        dyn.PolynomialLibrary(["x", "x"])
    with pytest.raises(ValueError, match="degree must be a positive integer"):
        dyn.PolynomialLibrary(["x"], degree=0)
    lib = dyn.PolynomialLibrary(["x", "y"], 2)
    with pytest.raises(ValueError, match=r"u must have shape \(n, 2\)"):
        lib(np.ones((3, 3)))
    with pytest.raises(ValueError, match="library must be a PolynomialLibrary"):
        dyn.SparseRegression("poly")
    with pytest.raises(ValueError, match="threshold must be a non-negative"):
        dyn.SparseRegression(lib, threshold=-0.1)
    with pytest.raises(ValueError, match="share n"):
        dyn.stlsq(np.ones((5, 2)), np.ones((4, 1)), 0.1)
    with pytest.raises(ValueError, match="must be finite"):
        dyn.stlsq(np.full((5, 2), np.nan), np.ones((5, 1)), 0.1)
    model = dyn.SparseRegression(lib)
    with pytest.raises(RuntimeError, match="call fit"):
        model.predict(np.ones((2, 2)))
    with pytest.raises(ValueError, match="names must label the 2 targets"):
        model.fit(np.ones((4, 2)), np.ones((4, 2)), names=["a"])
    model.fit(np.random.default_rng(0).normal(size=(10, 2)), np.zeros((10, 2)))
    with pytest.raises(ValueError, match=r"no term 'x\^3'"):
        model.coefficient("dx/dt", "x^3")
    with pytest.raises(ValueError, match="no target 'dz/dt'"):
        model.coefficient("dz/dt", "x")
