"""RAD and RAR-D: the residual density, where the points go, growth, checkpoints."""

import math

import numpy as np
import pytest
import torch

import pinnkit as pk
from pinnkit.sampling import RAD, RARD, residual_density

DOMAIN = pk.geometry.Interval(0, 1) * pk.geometry.TimeDomain(0, 1)


def peak(points):
    """A residual concentrated near x = 0.5 (what a shock does)."""
    return torch.exp(-((points[:, 0] - 0.5) ** 2) / 0.001)


def ready(sampler, seed=0, residual=peak):
    sampler.setup(DOMAIN, np.random.default_rng(seed), torch.float64, torch.device("cpu"), residual)
    return sampler


def test_density_formula():
    r = torch.tensor([0.0, 1.0, -2.0, 3.0], dtype=torch.float64)
    p = residual_density(r, k=2, c=1)
    e = r.abs() ** 2
    expected = e / e.mean() + 1
    torch.testing.assert_close(p, expected / expected.sum())
    torch.testing.assert_close(residual_density(torch.zeros(5), 1, 0), torch.full((5,), 0.2))
    flat = residual_density(r, k=1, c=1e9)
    torch.testing.assert_close(flat, torch.full((4,), 0.25, dtype=torch.float64), rtol=0, atol=1e-8)


def test_rad_moves_the_pool_to_the_residual_and_keeps_its_size():
    s = ready(RAD(400, period=5, k=1, c=0.1))
    first = s.points(0)
    spread_before = (first[:, 0] - 0.5).abs().mean()
    for step in range(4):
        s.update(step, torch.zeros(400))
        assert s.points(step + 1) is first  # nothing happens before the period is over
    s.update(4, torch.zeros(400))
    pool = s.points(5)
    assert pool.shape == (400, 2) and DOMAIN.inside(pool).all() and len(torch.unique(pool, dim=0)) == 400
    spread = (pool[:, 0] - 0.5).abs().mean()
    assert spread < 0.4 * spread_before  # uniform: 0.25 on average; concentrated near the peak now


def test_rard_adds_points_from_the_density():
    s = ready(RARD(100, period=2, add=30))
    first = s.points(0).clone()
    for step in range(6):
        s.update(step, torch.zeros(len(s.points(step))))
    pool = s.points(6)
    assert pool.shape == (190, 2)  # three refinements of 30
    assert torch.equal(pool[:100], first)
    assert (pool[100:, 0] - 0.5).abs().max() < 0.15  # k = 2, c = 0: added points sit on the peak


def test_seeded_and_resumable(tmp_path):
    a, b = ready(RAD(50, period=1)), ready(RAD(50, period=1))
    a.update(0, torch.zeros(50))
    b.update(0, torch.zeros(50))
    assert torch.equal(a.points(1), b.points(1))

    def trainer(seed):
        torch.manual_seed(seed)
        problem = pk.Problem(DOMAIN, pk.pde.equations.heat(0.1), outputs="u",
                             conditions=[pk.InitialCondition(lambda x: torch.sin(math.pi * x[:, :1]), n=32)])
        net = pk.nets.MLP(2, 1, width=8, depth=2)
        return pk.Trainer(problem, net, sampler=RARD(64, period=4, add=8), dtype=torch.float64, seed=seed)

    straight = trainer(0)
    straight.fit(20, progress=False)
    first = trainer(0)
    first.fit(10, progress=False)
    first.save(tmp_path / "c.pt")
    resumed = trainer(3)
    resumed.load_state(tmp_path / "c.pt")
    resumed.fit(10, progress=False)
    assert len(straight.sampler.points(0)) == 64 + 5 * 8
    assert torch.equal(straight.sampler.points(0), resumed.sampler.points(0))
    for x, y in zip(straight.trainable_parameters(), resumed.trainable_parameters(), strict=True):
        assert torch.equal(x, y)


def test_bad_settings():
    with pytest.raises(ValueError, match="needs the PDE residual"):
        RAD(10).setup(DOMAIN, np.random.default_rng(0), torch.float64, torch.device("cpu"))
    with pytest.raises(ValueError, match="k must be a positive"):
        RAD(10, k=0)
    with pytest.raises(ValueError, match="c must be a non-negative"):
        RARD(10, c=-1)
    with pytest.raises(ValueError, match="period must be"):
        RAD(10, period=0)


def test_refinement_follows_steps_that_jump():
    """Updates reported every 25 steps (as L-BFGS does) still refine once per period passed."""
    s = ready(RARD(50, period=40, add=5))
    for step in range(0, 200, 25):
        s.update(step, torch.zeros(len(s.points(step))))
    assert len(s.points(200)) == 50 + 5 * 4  # periods ending at 40, 80, 120, 160 were passed (last call: 175)


@pytest.mark.parametrize("make", [lambda: RAD(50, period=3, until=7), lambda: RARD(50, period=3, add=5, until=7),
                                  lambda: pk.sampling.Resample(50, every=3, until=7)])
def test_points_stop_moving_after_until(make):
    """Redraws happen at the ends of steps 3 and 6 (both within the first 7 steps), then never again."""
    s = ready(make())
    moved = []
    for step in range(20):
        before = s.points(step)
        s.update(step, torch.zeros(len(before)))
        moved.append(s.points(step + 1) is not before)
    assert [i for i, m in enumerate(moved) if m] == [2, 5]


def test_until_at_a_jump_and_bad_until():
    period = pk.sampling.Period(4, until=10)
    assert [period.due(step) for step in (2, 11, 30)] == [False, True, False]  # 11 crosses 4 and 8 from below 10
    for bad in (-1, 2.5, True, "3"):
        with pytest.raises(ValueError, match="until must be None or a non-negative integer"):
            RAD(10, until=bad)
