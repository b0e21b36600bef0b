"""``pinnkit.pde.references.burgers_exact`` against the reference data of Raissi et al. and against the PDE itself.

The data file ``tests/data/Burgers.npz`` (see ``tests/data/README.md``) holds ``x (256, 1)``, ``t (100, 1)`` and
``usol (256, 100)`` with ``usol[i, j] = u(t_j, x_i)``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from pinnkit.pde.references import burgers_exact, burgers_exact_grid

DATA = Path(__file__).resolve().parents[1] / "data" / "Burgers.npz"
NU = 0.01 / math.pi


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    with np.load(DATA) as f:
        return {k: f[k] for k in ("x", "t", "usol")}


@pytest.fixture(scope="module")
def grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return burgers_exact_grid()


def test_matches_reference_data(data, grid):
    x, t, u = grid
    assert x.shape == (256,) and t.shape == (100,) and u.shape == (256, 100)
    assert u.dtype == np.float64
    np.testing.assert_allclose(x, data["x"][:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(t, data["t"][:, 0], rtol=0, atol=1e-12)
    # Observed 4.2e-11 with the default 100 nodes (the data's own error floor, see the module docstring).
    assert np.abs(u - data["usol"]).max() <= 1e-8


def test_initial_condition_exact(grid):
    x, t, u = grid
    assert t[0] == 0.0
    np.testing.assert_array_equal(u[:, 0], -np.sin(np.pi * x))
    xs = np.linspace(-1.0, 1.0, 1001)
    np.testing.assert_array_equal(burgers_exact(xs, 0.0), -np.sin(np.pi * xs))


def test_boundary_values_vanish():
    t = np.linspace(0.0, 1.0, 201)
    for xb in (-1.0, 1.0):
        assert np.abs(burgers_exact(xb, t)).max() <= 1e-12


def test_satisfies_pde_by_finite_differences():
    """Residual ``u_t + u u_x - nu u_xx`` by float64 central differences, ``h = 1e-4``, at smooth points.

    Points: ``t in [0.1, 0.3]`` (before the shock forms at ``t ~ 1/pi``) and ``0.2 <= |x| <= 0.9``. Each residual
    is compared with ``scale = max(|u_t|, |u u_x|, |nu u_xx|)`` at that point (``>= 0.03`` here; ``u_t`` and
    ``u u_x`` are O(1)). Error budget: truncation ``O(h^2)`` (``h^2/6 u_ttt``, ``h^2/6 u u_xxx``,
    ``nu h^2/12 u_xxxx``), measured to scale as ``h^2`` with ratio ~ 3e-5 at ``h = 1e-3`` and ~ 3e-7 at
    ``h = 1e-4``; rounding ``~ nu eps |u| / h^2 ~ 1e-10`` at ``h = 1e-4``. The tolerance ``1e-5`` leaves a
    factor ~40 over the observed 2.5e-7 while still failing a solution whose viscosity is off by 0.1 %
    (ratio 1e-3, checked below).
    """
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-0.9, -0.2, 50), rng.uniform(0.2, 0.9, 50)])
    t = rng.uniform(0.1, 0.3, 100)
    h = 1e-4

    def relative_residual(nu_solution: float) -> np.ndarray:
        def u_of(xx: np.ndarray, tt: np.ndarray) -> np.ndarray:
            return burgers_exact(xx, tt, nu=nu_solution)

        u = u_of(x, t)
        u_t = (u_of(x, t + h) - u_of(x, t - h)) / (2 * h)
        u_xp, u_xm = u_of(x + h, t), u_of(x - h, t)
        u_x = (u_xp - u_xm) / (2 * h)
        u_xx = (u_xp - 2 * u + u_xm) / h**2
        residual = u_t + u * u_x - NU * u_xx
        scale = np.maximum.reduce([np.abs(u_t), np.abs(u * u_x), np.abs(NU * u_xx)])
        return np.abs(residual) / scale

    assert relative_residual(NU).max() <= 1e-5
    # Negative control: the test can tell a 0.1 % error in the viscosity.
    assert relative_residual(NU * 1.001).max() > 1e-4


def test_torch_inputs_and_broadcasting():
    xs = np.linspace(-1.0, 1.0, 17)
    ts = np.linspace(0.0, 0.99, 5)
    expected = burgers_exact(xs[:, None], ts[None, :])
    assert expected.shape == (17, 5) and expected.dtype == np.float64

    # Broadcasting (n, 1) x (1, m) equals point-by-point evaluation on the meshgrid.
    xx, tt = np.meshgrid(xs, ts, indexing="ij")
    np.testing.assert_array_equal(burgers_exact(xx, tt), expected)
    np.testing.assert_array_equal(burgers_exact(xx.ravel(), tt.ravel()).reshape(17, 5), expected)

    # torch tensors (float32 with grad, float64), moved to float64 numpy.
    x_t = torch.tensor(xs[:, None], dtype=torch.float64, requires_grad=True)
    t_t = torch.tensor(ts[None, :], dtype=torch.float64)
    out = burgers_exact(x_t, t_t)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (17, 5)
    np.testing.assert_array_equal(out, expected)
    out32 = burgers_exact(x_t.float(), t_t.float())
    assert out32.dtype == np.float64
    np.testing.assert_allclose(
        out32, burgers_exact(xs.astype(np.float32)[:, None], ts.astype(np.float32)[None, :]), rtol=0, atol=0
    )

    # Scalars and mixed inputs.
    assert burgers_exact(0.5, 0.5).shape == ()
    np.testing.assert_array_equal(burgers_exact(torch.tensor(xs), 0.5), burgers_exact(xs, np.full(17, 0.5)))


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        burgers_exact(0.0, -0.1)
    with pytest.raises(ValueError):
        burgers_exact(0.0, 0.5, nu=0.0)
    with pytest.raises(ValueError):
        burgers_exact(0.0, 0.5, n_nodes=0)
