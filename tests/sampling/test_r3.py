"""R3 and Causal R3: the properties stated in ALGORITHMS.md, checkpoints and use in training."""

import math

import numpy as np
import pytest
import torch

import pinnkit as pk

DOMAIN = pk.geometry.Interval(0, 2 * math.pi) * pk.geometry.TimeDomain(0, 1)


def ready(sampler, domain=DOMAIN, seed=0):
    sampler.setup(domain, np.random.default_rng(seed), torch.float64, torch.device("cpu"))
    return sampler


def test_r3_retains_exactly_the_points_above_the_mean_and_keeps_the_pool_size():
    s = ready(pk.sampling.R3(500))
    before = s.points(0).clone()
    r = torch.randn(500, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) ** 3
    s.update(0, r)
    after = s.points(1)
    assert after.shape == (500, 2) and s.weighting() is None
    keep = r.abs() > r.abs().mean()
    assert torch.equal(s.retained, keep)
    assert torch.equal(after[keep], before[keep])  # retained points keep their coordinates
    assert not (after[~keep] == before[~keep]).all(dim=1).any()  # the others were released and resampled
    assert DOMAIN.inside(after).all()


def test_r3_constant_residual_retains_nothing_and_scale_moves_the_threshold():
    s = ready(pk.sampling.R3(200))
    s.update(0, torch.full((200,), 3.0, dtype=torch.float64))
    assert not s.retained.any()
    r = torch.linspace(0, 1, 200, dtype=torch.float64)
    s2 = ready(pk.sampling.R3(200, threshold_scale=1.5))
    s2.update(0, r)
    assert torch.equal(s2.retained, r > 1.5 * r.mean())


def test_several_pde_terms_use_the_norm_of_the_residuals():
    s = ready(pk.sampling.R3(4))
    r = torch.tensor([[3.0, 4.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    s.update(0, r)
    assert s.retained.tolist() == [True, False, False, False]  # norms 5, 0, 1, 1: mean 1.75


def test_causal_gate_and_beta_schedule():
    s = ready(pk.sampling.CausalR3(300))
    pool = s.points(0)
    weights = s.weighting().weights(pool, torch.zeros(300, dtype=torch.float64), {})
    t = pool[:, 1]
    gate = 0.5 * (1 - torch.tanh(5 * (t - (-0.5))))
    torch.testing.assert_close(weights, gate**2)
    betas = [s.beta]
    for step, scale in enumerate([10.0, 1.0, 0.1, 0.0, 0.0]):
        s.update(step, scale * torch.randn(300, dtype=torch.float64))
        betas.append(s.beta)
    increments = np.diff(betas)
    assert np.all(increments >= 0) and np.all(increments <= 1e-3 * 0.1 + 1e-15)  # never decreases, <= eta*clip
    assert increments[-1] == pytest.approx(1e-3 * 0.1)  # zero residual: the full step


def test_causal_r3_with_an_open_gate_is_r3():
    causal, plain = ready(pk.sampling.CausalR3(300, beta=1e3)), ready(pk.sampling.R3(300))
    pool = causal.points(0)
    weights = causal.weighting().weights(pool, torch.zeros(300, dtype=torch.float64), {})
    torch.testing.assert_close(weights, torch.ones(300, dtype=torch.float64))
    assert torch.equal(pool, plain.points(0))
    r = torch.randn(300, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    causal.update(0, r)
    plain.update(0, r)
    assert torch.equal(causal.retained, plain.retained) and torch.equal(causal.points(1), plain.points(1))


def test_causal_r3_needs_space_time_and_valid_settings():
    with pytest.raises(ValueError, match="space-time domain"):
        ready(pk.sampling.CausalR3(10), domain=pk.geometry.Rectangle([0, 0], [1, 1]))
    with pytest.raises(ValueError, match="eta must be a positive"):
        pk.sampling.CausalR3(10, eta=0)
    with pytest.raises(ValueError, match="threshold_scale"):
        pk.sampling.R3(10, threshold_scale=-1)
    with pytest.raises(ValueError, match="n must be an integer"):
        pk.sampling.R3(0)


def convection_trainer(sampler, backend="autograd", seed=0, weighting=None):
    torch.manual_seed(seed)
    problem = pk.Problem(DOMAIN, pk.pde.equations.convection(5.0), outputs="u", conditions=[
        pk.InitialCondition(lambda x: torch.sin(x[:, :1]), n=64), pk.PeriodicBC("x", n=32)])
    net = pk.nets.MLP(2, 1, width=12, depth=2, input_bounds=DOMAIN.bbox)
    return pk.Trainer(problem, net, sampler=sampler, weighting=weighting, backend=backend, dtype=torch.float64,
                      seed=seed)


@pytest.mark.parametrize("make", [
    lambda: (pk.sampling.R3(128), None), lambda: (pk.sampling.CausalR3(128), None),
    lambda: (pk.sampling.Resample(128, every=4), None),
    lambda: (pk.sampling.R3(128), pk.weighting.CausalWeighting(chunks=8, epsilon=(1e-2, 1e-1, 1.0))),
], ids=["R3", "CausalR3", "Resample", "CausalWeighting(R3)"])
def test_training_resumes_bitwise_with_moving_points(tmp_path, make):
    def trainer(seed=0):
        sampler, weighting = make()
        return convection_trainer(sampler, seed=seed, weighting=weighting)

    straight = trainer()
    straight.fit(30, progress=False)
    first = trainer()
    first.fit(15, progress=False)
    first.save(tmp_path / "ckpt.pt")
    resumed = trainer(seed=9)
    resumed.load_state(tmp_path / "ckpt.pt")
    resumed.fit(15, progress=False)
    for a, b in zip(straight.trainable_parameters(), resumed.trainable_parameters(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(straight.sampler.points(0), resumed.sampler.points(0))
    if isinstance(straight.sampler, pk.sampling.CausalR3):
        assert straight.sampler.beta == resumed.sampler.beta > -0.5
    assert straight.sampler.state_dict().keys() == resumed.sampler.state_dict().keys()
    if isinstance(straight.weighting, pk.weighting.CausalWeighting):
        assert straight.weighting.stage == resumed.weighting.stage


def test_r3_trains_with_both_backends_identically():
    a, z = convection_trainer(pk.sampling.R3(128)), convection_trainer(pk.sampling.R3(128), backend="zcs")
    a.fit(20, progress=False)
    z.fit(20, progress=False)
    for pa, pz in zip(a.trainable_parameters(), z.trainable_parameters(), strict=True):
        torch.testing.assert_close(pa, pz, rtol=1e-9, atol=1e-12)
