"""``pinnkit.pde.references.allen_cahn_solution`` against refinement, the PDE itself and closed-form special cases.

Problem: ``u_t = 1e-4 u_xx + 5 (u - u^3)`` on ``[-1, 1]`` periodic, ``t in [0, 1]``, ``u(x, 0) = x^2 cos(pi x)``.
Defaults of the solver: ``modes = 2048`` Fourier points, ETDRK4 step ``dt = 1e-3``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.special import roots_legendre

from pinnkit.pde.references import allen_cahn_grid, allen_cahn_solution
from pinnkit.pde.references.allen_cahn import DT_DEFAULT, MODES_DEFAULT, _evolve

D = 1e-4
R = 5.0
X_FINE = np.linspace(-1.0, 1.0, 2001)
# 0.5 + 3.7e-4 is not a multiple of dt (nor of dt / 4): it is reached by a partial ETDRK4 step.
T_REFINE = np.array([0.1, 0.5, 0.5 + 3.7e-4, 1.0])


def u0(x: np.ndarray) -> np.ndarray:
    return x**2 * np.cos(np.pi * x)


@pytest.fixture(scope="module")
def default_solution() -> np.ndarray:
    """Default solver on ``X_FINE x T_REFINE``, shape ``(4, 2001)``."""
    return allen_cahn_solution(X_FINE[None, :], T_REFINE[:, None])


@pytest.fixture(scope="module")
def refined_solution() -> np.ndarray:
    """Twice the modes and a quarter of the step (about 2 s)."""
    return allen_cahn_solution(X_FINE[None, :], T_REFINE[:, None], modes=2 * MODES_DEFAULT, dt=DT_DEFAULT / 4)


@pytest.fixture(scope="module")
def grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return allen_cahn_grid()


def test_defaults():
    assert MODES_DEFAULT == 2048 and DT_DEFAULT == 1e-3


def test_refinement(default_solution, refined_solution):
    """(2048 modes, dt = 1e-3) against (4096, 2.5e-4), max over 2001 points of ``[-1, 1]``.

    Measured: 1.2e-11 at t = 0.1, 1.9e-11 at t = 0.5 and at t = 0.50037 (partial step), 1.9e-11 at t = 1 (the
    time-stepping error of dt = 1e-3; the refined solution agrees with 16384 modes, dt = 2.5e-4, to 2.4e-13).
    Tolerance 2e-10, 10x above.
    """
    assert default_solution.shape == (4, 2001) and default_solution.dtype == np.float64
    diff = np.abs(default_solution - refined_solution).max(axis=1)
    assert np.all(diff <= 2e-10), diff


def test_512_modes_do_not_resolve_the_fronts(refined_solution):
    """Negative control: 512 modes (grid step 0.0039 vs front width 0.0063) are off by 1.3e-5 at t = 1."""
    coarse = allen_cahn_solution(X_FINE, 1.0, modes=512)
    err = np.abs(coarse - refined_solution[-1])
    assert err.max() > 1e-6
    assert abs(abs(X_FINE[err.argmax()]) - 0.5) < 0.05  # at a front


def test_solution_shape_at_t1(default_solution):
    """Plateaus ``-1`` (``|x| > 1/2``) and ``+1`` (``|x| < 1/2``) with fronts at ``x ~ ±1/2`` and a dip at 0."""
    u1 = default_solution[-1]
    assert np.all(u1 > -1.0 - 1e-12) and np.all(u1 < 1.0 + 1e-12)
    outer = np.abs(X_FINE) > 0.6
    inner = (np.abs(X_FINE) > 0.25) & (np.abs(X_FINE) < 0.4)
    assert np.all(u1[outer] < -0.99) and np.all(u1[inner] > 0.98)
    assert 0.0 < u1[1000] < 0.1  # x = 0: the double zero of u(x, 0) rises only slowly
    for sign in (-1.0, 1.0):  # one sign change, near |x| = 0.5
        side = (sign * X_FINE > 0.1) & (sign * X_FINE < 0.9)
        crossings = X_FINE[side][np.flatnonzero(np.diff(np.sign(u1[side])))]
        assert crossings.size == 1 and abs(abs(crossings[0]) - 0.5) < 0.02


def test_initial_condition_exact(grid):
    x, t, u = grid
    assert t[0] == 0.0
    np.testing.assert_array_equal(u[0], u0(x))
    xs = np.linspace(-1.0, 1.0, 1001)
    np.testing.assert_array_equal(allen_cahn_solution(xs, 0.0), u0(xs))
    # Rounding below 0 is accepted and means t = 0.
    np.testing.assert_array_equal(allen_cahn_solution(xs, -1e-13), u0(xs))
    # Periodic extension outside [-1, 1].
    np.testing.assert_allclose(allen_cahn_solution(xs + 2.0, 0.0), u0(xs), rtol=0, atol=1e-13)


def test_grid(grid):
    x, t, u = grid
    assert x.shape == (512,) and t.shape == (201,) and u.shape == (201, 512) and u.dtype == np.float64
    np.testing.assert_array_equal(x, np.linspace(-1.0, 1.0, 512))
    np.testing.assert_array_equal(t, np.linspace(0.0, 1.0, 201))
    # Periodic: x = -1 and x = 1 are the same point.
    np.testing.assert_array_equal(u[:, 0], u[:, -1])
    # The tabulated path equals point-by-point evaluation (different summation order: round-off only).
    rows = np.array([1, 37, 100, 200])
    cols = np.array([0, 5, 255, 300, 511])
    pointwise = allen_cahn_solution(x[cols][None, :], t[rows][:, None])
    np.testing.assert_allclose(u[np.ix_(rows, cols)], pointwise, rtol=0, atol=1e-13)


def test_periodicity_and_independence_of_other_points():
    """Structural properties, with 256 modes to keep them cheap (they hold for any ``modes``)."""

    def sol(x, t):
        return allen_cahn_solution(x, t, modes=256)

    rng = np.random.default_rng(0)
    t = rng.uniform(0.0, 1.0, 30)
    x = rng.uniform(-1.0, 1.0, 30)
    ends = sol(np.array([-1.0, 1.0])[:, None], t[None, :])
    np.testing.assert_array_equal(ends[0], ends[1])
    np.testing.assert_allclose(sol(x + 2.0, t), sol(x, t), rtol=0, atol=1e-12)
    # The value at (x, t) does not depend on the other points requested with it (each off-grid time is a branch
    # from the common grid march).
    alone = np.array([sol(x[i], t[i]) for i in range(3)])
    np.testing.assert_allclose(alone, sol(x, t)[:3], rtol=0, atol=1e-13)
    # A time within rounding of a multiple of dt takes the grid state; t = 1 + 1e-13 is clipped to 1.
    np.testing.assert_allclose(
        sol(x, np.array([0.25 + 1e-14, 0.25 - 1e-14, 1.0 + 1e-13])[:, None]),
        sol(x, np.array([0.25, 0.25, 1.0])[:, None]),
        rtol=0,
        atol=1e-13,
    )


def test_satisfies_pde():
    """Residual ``u_t - d u_xx - r (u - u^3)`` on the whole grid at t in {0.2, 0.5, 0.9, 0.9979}.

    ``u_t``: fourth-order central differences with ``h = 7.3e-4`` (all of ``t ± h, t ± 2h`` off the dt-grid, so
    the partial steps are tested; truncation ``h^4 u^(5) / 30``). ``u_xx``: exactly, from the solution sampled on
    its own 2048 grid points (it is a trigonometric polynomial of degree 1024). This includes the fronts at
    ``t ~ 1``, where ``|d u_xx|`` reaches 0.64. Measured: max ``|residual|`` 1.5e-10, max ``|residual| / scale``
    5.3e-10 where ``scale = max(|u_t|, |d u_xx|, |r (u - u^3)|) > 1e-2``. Tolerances 2e-9 and 5e-9.
    """
    n = MODES_DEFAULT
    x = -1.0 + 2.0 * np.arange(n) / n
    ts = np.array([0.2, 0.5, 0.9, 0.9979])
    h = 7.3e-4
    offsets = np.array([-2.0, -1.0, 0.0, 1.0, 2.0]) * h
    k = np.pi * np.arange(n // 2 + 1)

    def residual(diffusion: float) -> tuple[np.ndarray, np.ndarray]:
        times = (ts[:, None] + offsets).ravel()
        u_all = allen_cahn_solution(x[None, :], times[:, None], diffusion=diffusion).reshape(ts.size, 5, n)
        u = u_all[:, 2]
        u_t = (-u_all[:, 4] + 8.0 * u_all[:, 3] - 8.0 * u_all[:, 1] + u_all[:, 0]) / (12.0 * h)
        u_xx = np.fft.irfft(-(k**2) * np.fft.rfft(u, axis=-1), n=n, axis=-1)
        diff, react = D * u_xx, R * (u - u**3)
        scale = np.maximum.reduce([np.abs(u_t), np.abs(diff), np.abs(react)])
        return u_t - diff - react, scale

    res, scale = residual(D)
    assert np.abs(res).max() <= 2e-9
    sel = scale > 1e-2
    assert sel.sum() > 5000
    assert (np.abs(res[sel]) / scale[sel]).max() <= 5e-9
    # Negative control: a solution with 1 % more diffusion violates the equation by ~ 6e-3 at the fronts.
    res_wrong, _ = residual(1.01 * D)
    assert np.abs(res_wrong).max() > 1e-3


def test_pure_reaction_matches_closed_form():
    """With ``d = 0`` each grid value solves ``u' = 5 u - 5 u^3``, ``u = u0 e^{5t} / sqrt(1 + u0^2 (e^{10t} - 1))``.

    The solver is started from grid samples (through ``_evolve``; the public function starts from the truncated
    Fourier series) and compared at the grid points, which tests the ETDRK4 nonlinear stages on their own.
    Measured: 1.9e-11 with dt = 1e-3 (tolerance 2e-10); 2.0e-7 and 1.2e-8 with dt = 1e-2 and 5e-3, the
    ratio ~16 of a fourth-order scheme.
    """
    n = 256
    x = -1.0 + 2.0 * np.arange(n) / n
    init = u0(x)
    times = np.array([0.1, 0.25, 0.5, 0.77, 1.0])  # 0.77: a partial step for dt = 1e-2 and 5e-3
    exact = init * np.exp(5.0 * times[:, None]) / np.sqrt(1.0 + init**2 * np.expm1(10.0 * times[:, None]))

    def error(dt: float) -> float:
        v = _evolve(np.fft.rfft(init), times, dt=dt, diffusion=0.0, reaction=R)
        return float(np.abs(np.fft.irfft(v, n=n, axis=-1) - exact).max())

    assert error(DT_DEFAULT) <= 2e-10
    ratio = error(1e-2) / error(5e-3)
    assert 12.0 < ratio < 20.0, ratio


def test_heat_equation_with_exact_fourier_coefficients():
    """With ``r = 0``: ``u = sum_j a_j e^{-d (pi j)^2 t} e^{i pi j (x + 1)}``, ``a_j`` by Gauss–Legendre quadrature.

    Tests the exact initial coefficients and the trigonometric interpolation at random ``x``. Measured 2.0e-11
    (t = 0.05) and 9.5e-12 (t = 0.3), the quadrature's own round-off; tolerance 2e-10.
    """
    s, w = roots_legendre(2000)
    j = np.arange(MODES_DEFAULT // 2 + 1)
    # a_j = (1/2) int u0(x) cos(pi j (x + 1)) dx = (-1)^j / 2 int u0(x) cos(pi j x) dx (u0 is even)
    a = 0.5 * np.cos(np.pi * j) * (np.cos(np.pi * np.outer(j, s)) @ (w * u0(s)))
    weight = np.where(j == 0, 1.0, 2.0)
    x = np.random.default_rng(1).uniform(-1.0, 1.0, 200)
    for t in (0.05, 0.3):
        exact = np.cos(np.pi * np.outer(x + 1.0, j)) @ (weight * a * np.exp(-D * (np.pi * j) ** 2 * t))
        np.testing.assert_allclose(allen_cahn_solution(x, t, reaction=0.0), exact, rtol=0, atol=2e-10)


def test_broadcasting_and_torch_inputs():
    xs = np.linspace(-1.0, 1.0, 9)
    ts = np.array([0.0, 0.3, 0.6113])
    expected = allen_cahn_solution(xs[:, None], ts[None, :])
    assert expected.shape == (9, 3) and expected.dtype == np.float64
    xx, tt = np.meshgrid(xs, ts, indexing="ij")
    np.testing.assert_allclose(allen_cahn_solution(xx.ravel(), tt.ravel()).reshape(9, 3), expected, atol=1e-13)
    out = allen_cahn_solution(torch.tensor(xs[:, None], requires_grad=True), torch.tensor(ts[None, :]))
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out, expected)
    assert allen_cahn_solution(0.25, 0.5).shape == ()
    assert allen_cahn_solution(np.zeros(0), 0.5).shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"t": -0.1}, "t"),
        ({"t": 1.01}, "t"),
        ({"t": np.nan}, "t"),
        ({"x": np.inf}, "x"),
        ({"x": np.zeros(3), "t": np.zeros(2)}, "broadcast"),
        ({"modes": 511}, "modes"),
        ({"modes": 0}, "modes"),
        ({"modes": -4}, "modes"),
        ({"modes": 512.0}, "modes"),
        ({"modes": True}, "modes"),
        ({"dt": 0.0}, "dt"),
        ({"dt": -1e-3}, "dt"),
        ({"dt": np.nan}, "dt"),
        ({"dt": 2.0}, "dt"),
        ({"diffusion": -1e-4}, "diffusion"),
        ({"diffusion": np.inf}, "diffusion"),
        ({"reaction": -5.0}, "reaction"),
        ({"reaction": None}, "reaction"),
    ],
)
def test_rejects_bad_arguments(kwargs, name):
    args = {"x": 0.0, "t": 0.5, **kwargs}
    x, t = args.pop("x"), args.pop("t")
    args.setdefault("modes", 64)
    with pytest.raises(ValueError, match=name):
        allen_cahn_solution(x, t, **args)


@pytest.mark.parametrize(("nx", "nt"), [(0, 3), (3, 0), (2.5, 3), (3, -1)])
def test_grid_rejects_bad_sizes(nx, nt):
    with pytest.raises(ValueError, match="nx" if nx != 3 else "nt"):
        allen_cahn_grid(nx, nt)
