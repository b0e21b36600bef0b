"""GivenPoints: the PDE at the user's points, alone or in front of another sampler's (DeepXDE's anchors)."""

import numpy as np
import pytest
import torch

import pinnkit as pk
from pinnkit.geometry import Interval, Rectangle, TimeDomain


def heat_problem():
    domain = Interval(0, 1) * TimeDomain(0, 1)
    return domain, pk.Problem(domain, lambda f: f.u_t - 0.1 * f.u_xx,
                              conditions=[pk.InitialCondition(lambda p: torch.sin(np.pi * p[:, :1]), n=16)])


def test_given_points_alone_are_the_collocation_points():
    domain, problem = heat_problem()
    given = np.array([[0.0, 0.0], [0.5, 0.5], [1.0, 1.0], [0.25, 0.75]])
    torch.manual_seed(0)
    trainer = pk.Trainer(problem, pk.nets.MLP(2, 1, width=8, depth=2), sampler=pk.sampling.GivenPoints(given),
                         dtype=torch.float64)
    points = trainer.sampler.points(0)
    assert points.dtype == torch.float64 and points.tolist() == given.tolist()
    _, _, residuals = trainer.losses()
    np.testing.assert_allclose(residuals["pde"].detach().numpy(), trainer.predict_residual(given), rtol=0,
                               atol=1e-15)


def test_anchors_stay_while_the_inner_sampler_moves_and_it_sees_only_its_rows():
    domain, problem = heat_problem()
    anchors = domain.boundary.sample(6, seed=1)
    inner = pk.sampling.R3(40)
    seen = []
    update = inner.update
    inner.update = lambda step, residual: (seen.append(residual.shape), update(step, residual))
    torch.manual_seed(0)
    trainer = pk.Trainer(problem, pk.nets.MLP(2, 1, width=8, depth=2), dtype=torch.float64, lr=1e-2,
                         sampler=pk.sampling.GivenPoints(anchors, inner))
    first = trainer.sampler.points(0).clone()
    trainer.fit(20, progress=False)
    now = trainer.sampler.points(trainer.step)
    assert len(now) == 46 and torch.equal(now[:6], anchors)
    assert torch.equal(now[6:], inner.points(trainer.step))
    assert not torch.equal(now[6:], first[6:])  # R3 moved its own points
    assert set(seen) == {(40,)}


def test_resume_through_a_checkpoint_is_exact(tmp_path):
    domain, problem = heat_problem()

    def make():
        torch.manual_seed(0)
        sampler = pk.sampling.GivenPoints(domain.boundary.sample(4, seed=2), pk.sampling.R3(30))
        return pk.Trainer(problem, pk.nets.MLP(2, 1, width=8, depth=2), sampler=sampler, dtype=torch.float64,
                          lr=1e-2, seed=3)

    straight = make()
    straight.fit(30, progress=False)
    first = make()
    first.fit(12, progress=False)
    first.save(tmp_path / "half.pt")
    resumed = make()
    resumed.load_state(tmp_path / "half.pt")
    resumed.fit(18, progress=False)
    for a, b in zip(straight.net.parameters(), resumed.net.parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(straight.sampler.points(30), resumed.sampler.points(30))


def test_a_causal_sampler_s_weights_cover_the_given_points_too():
    domain, problem = heat_problem()
    torch.manual_seed(0)
    sampler = pk.sampling.GivenPoints(domain.sample_interior(5, seed=0), pk.sampling.CausalR3(30))
    trainer = pk.Trainer(problem, pk.nets.MLP(2, 1, width=8, depth=2), sampler=sampler, dtype=torch.float64)
    trainer.fit(3, progress=False)
    weights = trainer.weighting.weights(trainer.sampler.points(3), torch.zeros(35), {})
    assert weights.shape == (35,)


@pytest.mark.parametrize("points, sampler, match", [
    (np.zeros((0, 2)), None, "at least one point"),
    (np.zeros((3, 3)), None, r"must have 2 columns \('x', 'y'\)"),
    (np.array([[0.5, 0.5], [2.0, 0.5]]), None, "1 of the 2 points lie outside"),
    (np.zeros((2, 2)), "R3", "sampler must be a pinnkit Sampler"),
    (np.array([[0.5, np.nan]]), None, "finite"),
])
def test_bad_given_points_are_refused(points, sampler, match):
    problem = pk.Problem(Rectangle((0, 0), (1, 1)), lambda f: f.u_xx + f.u_yy)
    with pytest.raises(ValueError, match=match):
        pk.Trainer(problem, pk.nets.MLP(2, 1, width=4, depth=1), sampler=pk.sampling.GivenPoints(points, sampler))


def test_one_given_sampler_serves_one_trainer():
    problem = pk.Problem(Rectangle((0, 0), (1, 1)), lambda f: f.u_xx + f.u_yy)
    inner = pk.sampling.FixedPoints(10)
    net = pk.nets.MLP(2, 1, width=4, depth=1)
    keep = pk.Trainer(problem, net, sampler=pk.sampling.GivenPoints(np.full((1, 2), 0.5), inner))
    with pytest.raises(ValueError, match="already in use by another trainer"):
        pk.Trainer(problem, net, sampler=inner)
    assert keep.sampler.inner is inner
