"""Causal time weighting (and resampling, which it is used with): the properties stated in ALGORITHMS.md and
use in training."""

import math

import numpy as np
import pytest
import torch

import pinnkit as pk
from pinnkit.sampling import FixedPoints, Resample
from pinnkit.weighting import CausalWeighting, causal_weights

DOMAIN = pk.geometry.Interval(0, 2 * math.pi) * pk.geometry.TimeDomain(0, 1)
GEN = torch.Generator().manual_seed(0)


def convection_problem(beta=5.0, domain=DOMAIN):
    return pk.Problem(domain, pk.pde.equations.convection(beta), outputs="u", conditions=[
        pk.InitialCondition(lambda x: torch.sin(x[:, :1]), n=64, name="ic"), pk.PeriodicBC("x", n=32)])


def ready(sampler, domain=DOMAIN, seed=0):
    sampler.setup(domain, np.random.default_rng(seed), torch.float64, torch.device("cpu"))
    return sampler


def weighting(**kwargs):
    w = CausalWeighting(**kwargs)
    w.setup(convection_problem(), torch.float64, torch.device("cpu"))
    return w


def no_ic():
    return {"ic": torch.tensor(0.0, dtype=torch.float64)}


def direct_causal_loss(t, r2, chunks, epsilon, count_chunks=True, initial=0.0):
    """mean_i(w_i L_i) the slow way: chunk by sorting (equal counts) or by equal time intervals."""
    if count_chunks:
        groups = np.array_split(np.argsort(t, kind="stable"), chunks)
    else:
        index = np.minimum(np.floor(t * chunks).astype(int), chunks - 1)
        groups = [np.nonzero(index == i)[0] for i in range(chunks)]
    losses = [r2[g].mean() for g in groups if len(g)]
    w = [math.exp(-epsilon * (initial + sum(losses[:i]))) for i in range(len(losses))]
    return float(np.mean(np.multiply(w, losses))), w


def test_weights_start_at_one_never_increase_and_carry_no_gradient():
    losses = torch.rand(16, dtype=torch.float64, generator=GEN, requires_grad=True)
    w = causal_weights(losses, 3.0)
    assert w[0] == 1.0 and torch.all(w[1:] <= w[:-1])
    before = torch.cat([torch.zeros(1, dtype=torch.float64), losses.detach().cumsum(0)[:-1]])
    torch.testing.assert_close(w, torch.exp(-3.0 * before))
    s = weighting(chunks=8, epsilon=5.0)
    points = ready(FixedPoints(256)).points(0)
    r = torch.randn(256, dtype=torch.float64, generator=GEN, requires_grad=True)
    weights = s.weights(points, r * 2, no_ic())
    w = s.weights_per_chunk
    assert not weights.requires_grad and w[0] == 1.0 and torch.all(w[1:] <= w[:-1])


@pytest.mark.parametrize("chunking", ["count", "interval"])
def test_weighted_mean_square_is_the_mean_of_weighted_chunk_losses(chunking):
    s = weighting(chunks=7, epsilon=2.0, chunking=chunking)
    points = ready(FixedPoints(300, "random")).points(0)
    r = torch.randn(300, dtype=torch.float64, generator=GEN) * (1 + points[:, 1])
    weights = s.weights(points, r, no_ic())
    expected, w = direct_causal_loss(points[:, 1].numpy(), r.square().numpy(), 7, 2.0, chunking == "count")
    assert float((weights * r.square()).mean()) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(s.weights_per_chunk.numpy()[: len(w)], w, rtol=1e-12)


def test_interval_chunks_skip_empty_chunks():
    s = weighting(chunks=4, chunking="interval")
    points = torch.tensor([[1.0, 0.1], [2.0, 0.15], [3.0, 0.9]], dtype=torch.float64)  # chunks 0, 0, 3
    r = torch.tensor([1.0, 3.0, 2.0], dtype=torch.float64)
    weights = s.weights(points, r, no_ic())
    expected, _ = direct_causal_loss(points[:, 1].numpy(), r.square().numpy(), 4, 1.0, count_chunks=False)
    assert float((weights * r.square()).mean()) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.5 * (5.0 + math.exp(-5.0) * 4.0))


def test_small_epsilon_gives_the_plain_mean():
    s = weighting(chunks=32, epsilon=1e-12)
    points = ready(FixedPoints(320)).points(0)
    r = torch.randn(320, dtype=torch.float64, generator=GEN)
    torch.testing.assert_close(s.weights(points, r, no_ic()), torch.ones(320, dtype=torch.float64))


def test_initial_loss_enters_the_cumulative_sum_when_asked():
    with_ic = weighting(chunks=4, epsilon=2.0, include_initial=True)
    without = weighting(chunks=4, epsilon=2.0)
    points = ready(FixedPoints(64)).points(0)
    r = torch.randn(64, dtype=torch.float64, generator=GEN)
    losses = {"ic": torch.tensor(0.3, dtype=torch.float64), "periodic_u_x": torch.tensor(5.0, dtype=torch.float64)}
    for s in (with_ic, without):
        s.weights(points, r, losses)
    assert without.weights_per_chunk[0] == 1.0
    torch.testing.assert_close(with_ic.weights_per_chunk, without.weights_per_chunk * math.exp(-2.0 * 0.3))


def test_epsilon_schedule_advances_on_the_min_weight_and_then_converges():
    s = weighting(chunks=4, epsilon=(1e-2, 1.0, 100.0))
    points = ready(FixedPoints(64)).points(0)
    big, tiny = torch.full((64,), 10.0, dtype=torch.float64), torch.full((64,), 1e-3, dtype=torch.float64)
    s.weights(points, big, no_ic())  # w = exp(-1e-2 * 100 * i): min far below 0.99
    s.update(0)
    assert s.epsilon == 1e-2 and not s.converged
    stages = []
    for step in range(1, 4):
        s.weights(points, tiny, no_ic())  # L_i = 1e-6: min w = exp(-eps * 3e-6) > 0.99
        s.update(step)
        stages.append((s.epsilon, s.converged))
    assert stages == [(1.0, False), (100.0, False), (100.0, True)]
    assert s.info()["causal_epsilon"] == 100.0 and s.info()["causal_min_weight"] > 0.99


def test_causal_weighting_needs_space_time_and_valid_settings():
    square = pk.Problem(pk.geometry.Rectangle([0, 0], [1, 1]), lambda f: f.u_xx + f.u_yy, outputs="u")
    with pytest.raises(ValueError, match="space-time domain"):
        CausalWeighting().setup(square, torch.float64, torch.device("cpu"))
    with pytest.raises(ValueError, match="space-time domain"):
        pk.Trainer(square, pk.nets.MLP(2, 1, width=4, depth=1), weighting=CausalWeighting())
    for kwargs, match in [({"epsilon": 0}, "epsilon must be"), ({"epsilon": (1.0, 0.1)}, "increasing"),
                          ({"epsilon": ()}, "epsilon must be"), ({"chunks": 0}, "chunks must be"),
                          ({"chunking": "time"}, "chunking must be"), ({"advance_at": 1.0}, "advance_at"),
                          ({"advance_at": True}, "advance_at")]:
        with pytest.raises(ValueError, match=match):
            CausalWeighting(**kwargs)
    with pytest.raises(ValueError, match="weighting must be a pinnkit.weighting Weighting"):
        pk.Trainer(convection_problem(), pk.nets.MLP(2, 1, width=4, depth=1), weighting="causal")


def test_resample_draws_new_points_every_k_steps_and_counts_lbfgs_chunks():
    s = ready(Resample(100, every=3))
    seen = [s.points(0)]
    for step in range(6):
        s.update(step, torch.zeros(100))
        seen.append(s.points(step + 1))
    changed = [a is not b for a, b in zip(seen, seen[1:], strict=False)]
    assert changed == [False, False, True, False, False, True]
    assert all(p.shape == (100, 2) and DOMAIN.inside(p).all() for p in seen)
    assert not torch.equal(seen[0], seen[3])
    s.update(20, torch.zeros(100))  # a jump over several multiples (an L-BFGS chunk) resamples once
    assert s.points(21) is not seen[-1]
    with pytest.raises(ValueError, match="every must be"):
        Resample(10, every=0)


@pytest.mark.parametrize("include_initial", [False, True])
def test_trainer_loss_is_the_causal_loss_of_the_same_step(include_initial):
    torch.manual_seed(0)
    net = pk.nets.MLP(2, 1, width=8, depth=2)
    causal = CausalWeighting(chunks=6, epsilon=3.0, include_initial=include_initial)
    tr = pk.Trainer(convection_problem(), net, sampler=FixedPoints(96, "random"), weighting=causal,
                    dtype=torch.float64, loss_weights={"ic": 2.0})
    total, terms, residuals = tr.losses()
    total, terms = total.detach(), {k: v.detach() for k, v in terms.items()}
    points = tr.sampler.points(0)
    r2 = residuals["pde"].detach().square().numpy()
    ic = 2.0 * float(terms["ic"]) if include_initial else 0.0
    expected, _ = direct_causal_loss(points[:, 1].numpy(), r2, 6, 3.0, initial=ic)
    assert float(terms["pde"]) == pytest.approx(expected, rel=1e-12)
    assert float(total) == pytest.approx(expected + 2.0 * float(terms["ic"]) + float(terms["periodic_u_x"]))


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_causal_weighting_trains_with_both_backends_and_logs_its_schedule(optimizer):
    runs = {}
    for backend in ("autograd", "zcs"):
        torch.manual_seed(0)
        net = pk.nets.MLP(2, 1, width=8, depth=2)
        tr = pk.Trainer(convection_problem(), net, sampler=Resample(64),
                        weighting=CausalWeighting(chunks=4, epsilon=1.0), backend=backend, optimizer=optimizer,
                        dtype=torch.float64)
        tr.fit(10, progress=False, log_every=5)
        runs[backend] = tr
        assert "causal_min_weight" in tr.history[-1] and tr.history[-1]["causal_epsilon"] == 1.0
    for a, z in zip(runs["autograd"].trainable_parameters(), runs["zcs"].trainable_parameters(), strict=True):
        torch.testing.assert_close(a, z, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("optimizer", ["multiadam", "config", "mconfig", "pcgrad"])
@pytest.mark.parametrize("make", [lambda: (pk.sampling.R3(64), None),
                                  lambda: (pk.sampling.CausalR3(64), CausalWeighting(chunks=4))],
                         ids=["R3", "CausalR3+CausalWeighting"])
def test_adaptive_samplers_work_with_the_multi_loss_optimizers(optimizer, make):
    torch.manual_seed(0)
    sampler, causal = make()
    tr = pk.Trainer(convection_problem(), pk.nets.MLP(2, 1, width=8, depth=2), sampler=sampler, weighting=causal,
                    optimizer=optimizer, lr=1e-2, dtype=torch.float64)
    start = tr.sampler.points(0).clone()
    tr.fit(12, progress=False, log_every=4)
    assert all(math.isfinite(h["loss"]) for h in tr.history)
    assert not torch.equal(tr.sampler.points(tr.step), start)  # the sampler moved its points under it
    if causal is not None:  # the sampler's own gate and the user's weighting, multiplied
        assert isinstance(tr.weighting, pk.weighting.Product) and "causal_beta" in tr.history[-1]


def test_weights_are_held_while_asked_and_the_trainer_holds_them_through_lbfgs_chunks():
    s = weighting(chunks=4, epsilon=2.0)
    points = ready(FixedPoints(64)).points(0)
    first = torch.randn(64, dtype=torch.float64, generator=GEN)
    s.hold(True)
    held = s.weights(points, first, no_ic())
    assert s.weights(points, 3 * first, no_ic()) is held
    s.hold(False)
    assert not torch.equal(s.weights(points, 3 * first, no_ic()), held)
    calls = []

    class Spy(CausalWeighting):
        def weights(self, points, pde_residual, condition_losses):
            out = super().weights(points, pde_residual, condition_losses)
            calls.append((self._hold, out))
            return out

    torch.manual_seed(0)
    tr = pk.Trainer(convection_problem(), pk.nets.MLP(2, 1, width=8, depth=2), optimizer="lbfgs",
                    sampler=FixedPoints(64), weighting=Spy(chunks=4), dtype=torch.float64)
    tr.fit(5, progress=False)
    during = [w for hold, w in calls if hold]
    assert len(during) > 1 and all(w is during[0] for w in during)  # one chunk, one set of weights


def test_the_trainer_calls_the_sampler_and_the_weighting_once_per_step():
    calls = {"points": 0, "update": 0, "weights": 0, "weighting_update": 0}

    class CountedPoints(FixedPoints):
        def points(self, step):
            calls["points"] += 1
            return super().points(step)

        def update(self, step, residual):
            calls["update"] += 1

    class CountedWeighting(CausalWeighting):
        def weights(self, points, pde_residual, condition_losses):
            calls["weights"] += 1
            return super().weights(points, pde_residual, condition_losses)

        def update(self, step):
            calls["weighting_update"] += 1
            super().update(step)

    torch.manual_seed(0)
    tr = pk.Trainer(convection_problem(), pk.nets.MLP(2, 1, width=8, depth=2), sampler=CountedPoints(64),
                    weighting=CountedWeighting(chunks=4), dtype=torch.float64)
    tr.fit(7, progress=False, log_every=100)
    # once per step, and once more for the final history record (the loss at the final parameters)
    assert calls == {"points": 8, "update": 7, "weights": 8, "weighting_update": 7}
    tr.fit(3, optimizer="lbfgs", progress=False, log_every=100)  # one chunk: one update of each after it
    assert calls["update"] == calls["weighting_update"] == 8


def test_per_term_weights_of_a_weighting_multiply_their_terms():
    class Halve(pk.weighting.Weighting):
        def compute(self, points, pde_residual, condition_losses):
            return {"pde": torch.tensor(0.5, dtype=torch.float64), "ic": torch.full((64,), 0.25,
                                                                                    dtype=torch.float64)}

    torch.manual_seed(0)
    net = pk.nets.MLP(2, 1, width=8, depth=2)
    plain = pk.Trainer(convection_problem(), net, sampler=FixedPoints(64), dtype=torch.float64)
    halved = pk.Trainer(convection_problem(), net, sampler=FixedPoints(64), weighting=Halve(), dtype=torch.float64)
    _, a, _ = plain.losses()
    _, b, _ = halved.losses()
    torch.testing.assert_close(b["pde"], 0.5 * a["pde"], rtol=1e-14, atol=0)
    torch.testing.assert_close(b["ic"], 0.25 * a["ic"], rtol=1e-14, atol=0)
    torch.testing.assert_close(b["periodic_u_x"], a["periodic_u_x"], rtol=0, atol=0)
