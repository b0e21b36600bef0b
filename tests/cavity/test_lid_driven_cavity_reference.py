"""The classical lid-driven cavity solver: grid convergence, published values, PINNacle's COMSOL solution,
symmetry, and its argument checks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from pinnkit.pde.references import (
    GHIA_REYNOLDS,
    CavityFlow,
    cavity_lid,
    ghia_centerlines,
    ghia_deviation,
    lid_driven_cavity,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "pinnacle_lid_driven_a4.npz"

# Ghia, Ghia & Shin, J. Comput. Phys. 48 (1982) 387-411, Re = 100 column of Table I (u on x = 0.5) and Table II
# (v on y = 0.5), at their interior stations; the stations are the nodes k/128 of their 129 x 129 grid.
GHIA_U = {125: 0.84123, 124: 0.78871, 123: 0.73722, 122: 0.68717, 109: 0.23151, 94: 0.00332, 79: -0.13641,
          64: -0.20581, 58: -0.21090, 36: -0.15662, 22: -0.10150, 13: -0.06434, 9: -0.04775, 8: -0.04192,
          7: -0.03717}
GHIA_V = {124: -0.05906, 123: -0.07391, 122: -0.08864, 121: -0.10313, 116: -0.16914, 110: -0.22445, 103: -0.24533,
          64: 0.05454, 30: 0.17527, 29: 0.17507, 20: 0.16077, 12: 0.12317, 10: 0.10890, 9: 0.10091, 8: 0.09233}
GHIA_PSI_MIN = -0.103423  # Table III: primary vortex at (0.6172, 0.7344)


@pytest.fixture(scope="module")
def flows() -> dict[tuple[str, int], CavityFlow]:
    return {(lid, n): lid_driven_cavity(n, lid=lid) for lid in ("uniform", "parabolic") for n in (33, 65, 129)}


def _shared_centerlines(flow: CavityFlow) -> np.ndarray:
    """u(0.5, k/32) and v(k/32, 0.5) for k = 1..31: nodes common to the 33, 65 and 129 grids."""
    _, u, _, v = flow.centerlines()
    step = (flow.n - 1) // 32
    return np.concatenate([u[::step][1:-1], v[::step][1:-1]])


@pytest.mark.parametrize("lid", ["uniform", "parabolic"])
def test_newton_converges_to_the_discrete_solution(flows, lid):
    for n in (33, 65, 129):
        flow = flows[(lid, n)]
        assert flow.newton_steps <= 8
        assert flow.residual < 1e-9


@pytest.mark.parametrize("lid", ["uniform", "parabolic"])
def test_grid_refinement_shows_second_order(flows, lid):
    coarse, mid, fine = (_shared_centerlines(flows[(lid, n)]) for n in (33, 65, 129))
    d1, d2 = np.abs(mid - coarse).max(), np.abs(fine - mid).max()
    order = np.log2(d1 / d2)
    assert 1.8 < order < 2.3, (d1, d2, order)
    assert d2 < 4e-3  # 65 vs 129: the 129 grid is then within ~1e-3 of the limit


def test_uniform_lid_matches_ghia_et_al(flows):
    flow = flows[("uniform", 129)]
    _, u, _, v = flow.centerlines()
    du = max(abs(u[k] - value) for k, value in GHIA_U.items())
    dv = max(abs(v[k] - value) for k, value in GHIA_V.items())
    assert du < 6e-3 and dv < 1e-2, (du, dv)  # measured 4.2e-3 and 8.4e-3 (Ghia's table is the less accurate)
    # the library's copy of the table (stations as coordinates) gives the same deviations, through interpolation
    # of the flow at the stations, which are grid nodes
    shipped = ghia_deviation(flow, 100)
    assert shipped["u"] == pytest.approx(du, abs=1e-12) and shipped["v"] == pytest.approx(dv, abs=1e-12)
    i, j = np.unravel_index(np.argmin(flow.psi), flow.psi.shape)
    assert (i, j) == (79, 94)  # x = 0.6172, y = 0.7344: Ghia's vortex centre node
    assert abs(flow.psi[i, j] - GHIA_PSI_MIN) < 3e-4


# Marchi, Suero & Araki, J. Braz. Soc. Mech. Sci. Eng. 31 (2009) 186-198 (1024 x 1024 grid, extrapolated), Re = 100:
# min u on x = 0.5, max and min v on y = 0.5
MARCHI_EXTREMA = (-0.2140424, 0.1795728, -0.2538030)


def _centreline_extrema(flow: CavityFlow, brackets=((0.3, 0.6), (0.1, 0.4), (0.7, 0.9))) -> np.ndarray:
    """min u(0.5, y), max v(x, 0.5) and min v(x, 0.5), each searched in its bracket."""
    u = lambda y: flow(np.array([[0.5, y]]))[0, 0]  # noqa: E731
    v = lambda x: flow(np.array([[x, 0.5]]))[0, 1]  # noqa: E731
    found = [minimize_scalar(f, bounds=b, method="bounded", options={"xatol": 1e-8}).fun
             for f, b in zip((u, lambda x: -v(x), v), brackets, strict=True)]
    return np.array([found[0], -found[1], found[2]])


def test_richardson_limit_is_the_published_fine_grid_solution_and_ghia_is_farther(flows):
    """The 129- and 257-node solutions, Richardson-extrapolated (second order), give Marchi et al.'s extrema to
    2e-6, and at Ghia et al.'s stations they differ from Ghia's table by about 5e-3 (u) and 9e-3 (v): the
    table's own error, which no accurate solution can go below."""
    coarse, fine = flows[("uniform", 129)], lid_driven_cavity(257)
    limit = (4 * _centreline_extrema(fine) - _centreline_extrema(coarse)) / 3
    np.testing.assert_allclose(limit, MARCHI_EXTREMA, rtol=0, atol=5e-6)  # measured 0.9e-6, 1.5e-6, 1.7e-6
    y, u, x, v = ghia_centerlines(100)
    on_u = lambda f: f(np.stack([np.full_like(y, 0.5), y], axis=1))[:, 0]  # noqa: E731
    on_v = lambda f: f(np.stack([x, np.full_like(x, 0.5)], axis=1))[:, 1]  # noqa: E731
    limit_u, limit_v = (4 * on_u(fine) - on_u(coarse)) / 3, (4 * on_v(fine) - on_v(coarse)) / 3
    assert 4e-3 < np.abs(limit_u - u).max() < 6e-3  # measured 4.9e-3
    assert 8e-3 < np.abs(limit_v - v).max() < 1.1e-2  # measured 9.3e-3, at x = 0.8594


# Botella & Peyret, Comput. Fluids 27 (1998) 421-433 (Chebyshev collocation, N = 160), Re = 1000: the same extrema
BOTELLA_EXTREMA_RE1000 = (-0.3885698, 0.3769447, -0.5270771)


def test_continuation_reaches_re_1000_and_ghia_et_al():
    flow = lid_driven_cavity(129, reynolds=1000)
    assert flow.reynolds_path == (100.0, 200.0, 400.0, 800.0, 1000.0) and flow.residual < 1e-9
    deviation = ghia_deviation(flow, 1000)
    assert deviation["u"] < 2e-2 and deviation["v"] < 1.2e-2, deviation  # measured 1.4e-2 and 8.0e-3
    # 129 nodes are coarse at Re = 1000 (1.3e-2 from the limit); the 129/257 Richardson limit gives Botella and
    # Peyret's extrema to 1e-5 (measured, 65 s; here the 129-node extrema only, against the published ones)
    np.testing.assert_allclose(_centreline_extrema(flow, ((0.05, 0.35), (0.05, 0.35), (0.8, 0.98))),
                               BOTELLA_EXTREMA_RE1000, rtol=0, atol=2e-2)  # measured 1.3e-2, 1.3e-2, 1.7e-2
    i, j = np.unravel_index(np.argmin(flow.psi), flow.psi.shape)
    assert abs(flow.x[i] - 0.5313) < 0.01 and abs(flow.y[j] - 0.5625) < 0.01  # Ghia's Re 1000 vortex centre


def test_a_continuation_step_that_fails_is_halved_and_the_solution_is_the_same(monkeypatch):
    module = sys.modules[lid_driven_cavity.__module__]
    straight = lid_driven_cavity(33, reynolds=800)
    assert straight.reynolds_path == (100.0, 200.0, 400.0, 800.0)
    monkeypatch.setattr(module, "CONTINUATION_STEPS", 4)  # too few for a doubling: the steps must shrink
    halved = lid_driven_cavity(33, reynolds=800)
    path = np.array(halved.reynolds_path)
    assert len(path) > 4 and path[0] == 100.0 and path[-1] == 800.0 and np.all(np.diff(path) > 0)
    np.testing.assert_allclose(halved.psi, straight.psi, rtol=0, atol=1e-12)
    monkeypatch.setattr(module, "CONTINUATION_STEPS", 2)  # too few for any step
    with pytest.raises(RuntimeError, match=r"did not converge in 2 steps \(Re = 100\.\d+, n = 33, starting from "
                                           r"the solution at Re = 100\)"):
        lid_driven_cavity(33, reynolds=800)


def test_a_singular_jacobian_in_a_continuation_step_halves_it(monkeypatch):
    module = sys.modules[lid_driven_cavity.__module__]
    straight = lid_driven_cavity(33, reynolds=200)
    at_re_100 = lid_driven_cavity(33, reynolds=100).newton_steps  # factorisations before the first at Re = 200
    factorise, calls = module.splu, []

    def singular_once(matrix):
        calls.append(matrix)
        if len(calls) == at_re_100 + 1:
            raise RuntimeError("Factor is exactly singular")  # what SuperLU raises
        return factorise(matrix)

    monkeypatch.setattr(module, "splu", singular_once)
    halved = lid_driven_cavity(33, reynolds=200)
    assert halved.reynolds_path == (100.0, 150.0, 200.0)
    np.testing.assert_allclose(halved.psi, straight.psi, rtol=0, atol=1e-12)


def test_ghia_tables_sit_on_the_129_node_grid():
    for re in GHIA_REYNOLDS:
        y, u, x, v = ghia_centerlines(re)
        for stations in (y, x):
            assert len(stations) == 15 and np.all(np.diff(stations) > 0)
            assert np.array_equal(stations * 128, np.round(stations * 128))
    y, u, x, v = ghia_centerlines(100)
    assert dict(zip(np.round(y * 128).astype(int), u, strict=True)) == GHIA_U
    assert dict(zip(np.round(x * 128).astype(int), v, strict=True)) == GHIA_V
    with pytest.raises(ValueError, match="reynolds"):
        ghia_centerlines(400)
    with pytest.raises(ValueError, match=r"velocity: expected \(m, >= 2\).*got shape \(15,\)"):
        ghia_deviation(lambda points: points[:, 0], 100)  # one column, not (u, v)


def test_parabolic_lid_matches_pinnacle_comsol(flows):
    with np.load(DATA) as data:
        points = np.stack([data["x"], data["y"]], axis=1)
        ref = np.stack([data["u"], data["v"], data["p"]], axis=1)
    pred = flows[("parabolic", 129)](points)
    pred[:, 2] += np.mean(ref[:, 2] - pred[:, 2])  # pressure up to a constant
    rel = np.linalg.norm(pred - ref, axis=0) / np.linalg.norm(ref, axis=0)
    assert rel[0] < 3e-3 and rel[1] < 5e-3 and rel[2] < 3e-2, rel  # measured 1.8e-3, 3.5e-3, 2.3e-2
    wall_distance = np.minimum(np.minimum(points[:, 0], 1 - points[:, 0]), np.minimum(points[:, 1], 1 - points[:, 1]))
    away = wall_distance > 0.05
    rel_away = np.linalg.norm((pred - ref)[away], axis=0) / np.linalg.norm(ref[away], axis=0)
    assert rel_away.max() < 5e-3, rel_away


def test_stokes_limit_symmetry_and_vortex():
    """As Re -> 0 the parabolic-lid flow is mirror-symmetric about x = 1/2 (u even, v odd, p odd), and the
    uniform-lid vortex sits on the centre line."""
    flow = lid_driven_cavity(33, reynolds=1e-8, lid="parabolic")  # asymmetry O(Re): 4e-9 at 1e-6
    assert np.abs(flow.u - flow.u[::-1]).max() < 1e-9
    assert np.abs(flow.v + flow.v[::-1]).max() < 1e-9
    assert np.abs(flow.p + flow.p[::-1]).max() < 1e-9 * np.abs(flow.p).max()
    stokes = lid_driven_cavity(65, reynolds=1e-6)
    i, _ = np.unravel_index(np.argmin(stokes.psi), stokes.psi.shape)
    assert i == 32 and abs(stokes.psi.min() - (-0.10008)) < 2e-4  # Richardson limit of 129/257 grids: -0.100076


def test_fields_satisfy_the_boundary_conditions_and_interpolate_exactly(flows):
    flow = flows[("parabolic", 65)]
    lid = cavity_lid("parabolic")(flow.x)
    np.testing.assert_array_equal(flow.u[:, -1], lid)
    for edge in (flow.u[0], flow.u[-1], flow.u[:, 0], flow.v[0], flow.v[-1], flow.v[:, 0], flow.v[:, -1]):
        assert np.all(edge == 0)
    assert abs(flow.p.mean()) < 1e-12
    gx, gy = np.meshgrid(flow.x, flow.y, indexing="ij")
    values = flow(np.stack([gx.ravel(), gy.ravel()], axis=1))
    np.testing.assert_allclose(values, np.stack([flow.u.ravel(), flow.v.ravel(), flow.p.ravel()], axis=1),
                               atol=1e-12)
    # the discrete velocity is divergence-free to second order: central differences of u and v cancel exactly
    h = flow.x[1] - flow.x[0]
    div = (flow.u[2:, 1:-1] - flow.u[:-2, 1:-1] + flow.v[1:-1, 2:] - flow.v[1:-1, :-2]) / (2 * h)
    assert np.abs(div[1:-1, 1:-1]).max() < 1e-9


def test_callable_lid_equals_the_named_one():
    a = lid_driven_cavity(17, lid="parabolic")
    b = lid_driven_cavity(17, lid=lambda x: 4 * x * (1 - x))
    np.testing.assert_allclose(b.psi, a.psi, atol=1e-14)


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 64}, "n must be an odd integer"), ({"n": 3}, "n must be an odd integer"), ({"n": 33.0}, "n must be"),
    ({"reynolds": 0}, "reynolds"), ({"reynolds": float("nan")}, "reynolds"), ({"lid": "moving"}, "lid must be"),
    ({"tol": 0}, "tol"), ({"max_newton": 0}, "max_newton"),
    ({"lid": lambda x: np.ones(3)}, "lid\\(x\\) must return"),
])
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        lid_driven_cavity(**{"n": 17, **kwargs})


def test_points_outside_the_square_are_rejected():
    flow = lid_driven_cavity(17)
    with pytest.raises(ValueError, match="unit square"):
        flow(np.array([[0.5, 1.5]]))
    with pytest.raises(ValueError, match="shape"):
        flow(np.array([0.5, 0.5]))
