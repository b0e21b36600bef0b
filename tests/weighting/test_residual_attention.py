"""Residual-based attention (RBA) and vRBA: the update formulas against multipliers computed by hand in float64
from the recorded residuals, multipliers kept per point through resampling, frozen through L-BFGS line searches,
exact resume, argument checks, and the vRBA normalisations."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import pinnkit as pk
from pinnkit.sampling import R3, RARD, CausalR3, FixedPoints, Resample
from pinnkit.weighting import ResidualAttention, VariationalResidualAttention
from pinnkit.weighting.residual_attention import match_rows
from pinnkit.weighting.variational_attention import cosh_scale

DOMAIN = pk.geometry.Interval(0, 2 * math.pi) * pk.geometry.TimeDomain(0, 1)
F64, CPU = torch.float64, torch.device("cpu")
GEN = torch.Generator().manual_seed(0)


def convection_problem():
    return pk.Problem(DOMAIN, pk.pde.equations.convection(5.0), outputs="u", conditions=[
        pk.InitialCondition(lambda x: torch.sin(x[:, :1]), n=32, name="ic"), pk.PeriodicBC("x", n=16)])


def recording(cls=ResidualAttention):
    class Recording(cls):
        """Records each computed evaluation: (points, residual, committed multipliers before, weights)."""

        def setup(self, problem, dtype, device):
            super().setup(problem, dtype, device)
            self.calls = []

        def compute(self, points, pde_residual, condition_losses):
            before = None if self.multipliers is None else self.multipliers.clone()
            out = super().compute(points, pde_residual, condition_losses)
            self.calls.append((points, pde_residual.detach().clone(), before, out))
            return out

    return Recording


def trainer(weighting, sampler=None, seed=0, **kwargs):
    torch.manual_seed(seed)
    return pk.Trainer(convection_problem(), pk.nets.MLP(2, 1, width=8, depth=2), weighting=weighting,
                      sampler=sampler if sampler is not None else FixedPoints(48, "random"), dtype=F64, **kwargs)


def rba_by_hand(lam, r, gamma, eta):
    a = np.abs(r)
    return gamma * lam + eta * a / a.max()


def single(problem_terms=("pde",)):
    return SimpleNamespace(pde_terms=problem_terms)


def test_multipliers_follow_the_rba_update_over_adam_steps_and_weight_the_same_step():
    w = recording()(gamma=0.9, eta=0.2, initial=0.5)
    tr = trainer(w)
    tr.fit(6, progress=False, log_every=100)
    lam = np.full(48, 0.5)
    for _, r, before, out in w.calls[:6]:  # one evaluation per step (a 7th for the final record)
        np.testing.assert_allclose(before if before is not None else np.full(48, 0.5), lam, rtol=1e-14, atol=0)
        lam = rba_by_hand(lam, r.numpy(), 0.9, 0.2)
        np.testing.assert_allclose(out.numpy(), lam**2, rtol=1e-14, atol=0)  # this step's loss uses the update
    np.testing.assert_allclose(w.multipliers.numpy(), lam, rtol=1e-14, atol=0)
    assert w.updates == 6 and tr.history[-1]["rba_max"] == pytest.approx(lam.max())
    _, terms, residuals = tr.losses()  # the loss is mean((lambda r)^2) with the updated multipliers
    r = residuals["pde"].detach().numpy()
    expected = np.mean((rba_by_hand(lam, r, 0.9, 0.2) * r) ** 2)
    assert float(terms["pde"].detach()) == pytest.approx(expected, rel=1e-13)
    assert not w.calls[-1][3].requires_grad


def test_defaults_are_the_papers_and_bound_the_multipliers():
    w = ResidualAttention()
    assert (w.gamma, w.eta, w.initial, w.new_points) == (0.999, 0.01, 0.0, "mean")
    w.setup(single(), F64, CPU)
    points = torch.rand(100, 2, dtype=F64, generator=GEN)
    for _ in range(300):
        w.weights(points, torch.randn(100, dtype=F64, generator=GEN), {})
        w.update(0)
    assert float(w.multipliers.min()) >= 0 and float(w.multipliers.max()) <= 0.01 / (1 - 0.999)


def test_several_pde_terms_have_their_own_multipliers_and_per_term_weights():
    w = ResidualAttention(gamma=0.5, eta=1.0)
    w.setup(single(("momentum", "mass")), F64, CPU)
    points = torch.rand(30, 2, dtype=F64, generator=GEN)
    r = torch.randn(30, 2, dtype=F64, generator=GEN) * torch.tensor([1.0, 100.0], dtype=F64)
    out = w.weights(points, r, {})
    assert set(out) == {"momentum", "mass"}
    for k, term in enumerate(("momentum", "mass")):  # each normalised by its own maximum
        np.testing.assert_allclose(out[term].numpy(), rba_by_hand(0.0, r[:, k].numpy(), 0.5, 1.0) ** 2, rtol=1e-15)
    # through the trainer: each PDE term weighted by its own multipliers
    rect = pk.geometry.Rectangle((0, 0), (1, 1))
    problem = pk.Problem(rect, lambda f: {"momentum": f.u_x - f.v, "mass": f.v_y}, ("u", "v"),
                         conditions=[pk.DirichletBC(value=0.0, output="u", n=16)])
    torch.manual_seed(0)
    tr = pk.Trainer(problem, pk.nets.MLP(2, 2, width=8, depth=2), sampler=FixedPoints(32), dtype=F64,
                    weighting=ResidualAttention(gamma=0.5, eta=1.0))
    _, terms, residuals = tr.losses()
    for term in ("momentum", "mass"):
        r = residuals[term].detach().numpy()
        expected = np.mean((rba_by_hand(0.0, r, 0.5, 1.0) * r) ** 2)
        assert float(terms[term].detach()) == pytest.approx(expected, rel=1e-13)


def test_match_rows_finds_points_by_coordinates_in_any_row():
    old = torch.rand(20, 2, dtype=F64, generator=GEN)
    perm = torch.randperm(20, generator=GEN)
    new = torch.cat([old[perm[:12]], torch.rand(5, 2, dtype=F64, generator=GEN)])
    assert torch.equal(match_rows(new, old), torch.cat([perm[:12], torch.full((5,), -1)]))
    assert torch.equal(match_rows(old[:, :1], old), torch.full((20,), -1))  # another dimension: all new


@pytest.mark.parametrize("new_points", ["mean", "initial"])
def test_multipliers_are_kept_per_point_through_r3_and_new_points_get_the_stated_value(new_points):
    w = recording()(gamma=0.8, eta=0.3, initial=0.25, new_points=new_points)
    tr = trainer(w, sampler=R3(64))
    tr.fit(3, progress=False, log_every=100)
    sampler = tr.sampler
    for (p0, _, _, _), (p1, r1, lam0, out1) in zip(w.calls[:3], w.calls[1:4], strict=True):
        assert p1 is not p0  # R3 moved the points after each step
        kept = (p1 == p0).all(dim=1)  # R3 keeps retained points in their rows
        assert 0 < int(kept.sum()) < 64
        fill = lam0.mean() if new_points == "mean" else 0.25
        current = torch.where(kept, lam0, torch.full_like(lam0, fill))
        np.testing.assert_allclose(out1.numpy(), rba_by_hand(current.numpy(), r1.numpy(), 0.8, 0.3) ** 2,
                                   rtol=1e-14, atol=0)
    assert torch.equal(sampler.retained, (w.calls[3][0] == w.calls[2][0]).all(dim=1))


@pytest.mark.parametrize("make", [lambda: RARD(40, period=1, add=8, candidates=200), lambda: Resample(40)],
                         ids=["RARD", "Resample"])
def test_added_points_keep_the_old_multipliers_and_a_redraw_starts_from_their_mean(make):
    w = ResidualAttention(gamma=0.5, eta=1.0, initial=1.0)
    tr = trainer(w, sampler=make())
    tr.fit(1, progress=False, log_every=100)
    old, lam = w.points, w.multipliers.clone()
    points = tr.sampler.points(1)
    current = w.current(points, torch.Size([len(points)]))
    if isinstance(tr.sampler, RARD):  # the pool grew by 8 points: the first 40 rows are the old ones
        assert len(points) == 48 and torch.equal(points[:40], old)
        assert torch.equal(current[:40], lam) and torch.all(current[40:] == lam.mean())
    else:
        assert not (match_rows(points, old) >= 0).any() and torch.all(current == lam.mean())


def test_multipliers_are_frozen_through_an_lbfgs_chunk_and_advance_once_after_it():
    calls = []

    class Spy(ResidualAttention):
        def weights(self, points, pde_residual, condition_losses):
            out = super().weights(points, pde_residual, condition_losses)
            lam = None if self.multipliers is None else self.multipliers.clone()
            calls.append((self._hold, out, lam, self.updates))
            return out

    w = Spy(gamma=0.7, eta=0.5, initial=1.0)
    tr = trainer(w)
    tr.fit(2, progress=False, log_every=100)
    lam, updates = w.multipliers.clone(), w.updates
    calls.clear()
    tr.fit(8, optimizer="lbfgs", progress=False, log_every=100)
    during = [c for c in calls if c[0]]
    assert len(during) > 2  # line-search evaluations
    assert all(c[1] is during[0][1] for c in during)  # one set of weights for the whole chunk
    assert all(torch.equal(c[2], lam) and c[3] == updates for c in during)  # committed ones untouched inside
    assert w.updates == updates + 1  # one commit after the chunk, of the update its weights came from
    torch.testing.assert_close(w.multipliers.square(), during[0][1], rtol=0, atol=0)


def test_hold_keeps_the_update_of_the_first_evaluation():
    w = ResidualAttention(gamma=0.5, eta=1.0)
    w.setup(single(), F64, CPU)
    points = torch.rand(10, 2, dtype=F64, generator=GEN)
    r1, r2 = torch.randn(10, dtype=F64, generator=GEN), torch.randn(10, dtype=F64, generator=GEN)
    w.hold(True)
    held = w.weights(points, r1, {})
    assert w.weights(points, r2, {}) is held and w.multipliers is None  # nothing committed inside
    w.hold(False)
    w.update(0)
    np.testing.assert_allclose(w.multipliers.numpy(), rba_by_hand(0.0, r1.numpy(), 0.5, 1.0), rtol=1e-15)
    w.update(1)  # nothing pending: no second commit
    assert w.updates == 1


@pytest.mark.parametrize("make", [lambda: (R3(48), ResidualAttention(gamma=0.9, eta=0.1)),
                                  lambda: (CausalR3(48), VariationalResidualAttention(gamma=0.9, eta=0.1))],
                         ids=["R3+RBA", "CausalR3+vRBA"])
def test_training_resumes_bitwise_through_a_checkpoint(tmp_path, make):
    def build(seed=0):
        sampler, weighting = make()
        return trainer(weighting, sampler=sampler, seed=seed)

    straight = build()
    straight.fit(12, progress=False)
    first = build()
    first.fit(6, progress=False)
    first.save(tmp_path / "ckpt.pt")
    resumed = build(seed=5)
    resumed.load_state(tmp_path / "ckpt.pt")
    resumed.fit(6, progress=False)
    for a, b in zip(straight.trainable_parameters(), resumed.trainable_parameters(), strict=True):
        assert torch.equal(a, b)
    sw = straight.weighting.parts[-1] if isinstance(straight.weighting, pk.weighting.Product) else straight.weighting
    rw = resumed.weighting.parts[-1] if isinstance(resumed.weighting, pk.weighting.Product) else resumed.weighting
    assert torch.equal(sw.multipliers, rw.multipliers) and sw.updates == rw.updates == 12


def test_combines_with_a_samplers_own_weighting():
    tr = trainer(ResidualAttention(gamma=0.5, eta=1.0, initial=2.0), sampler=CausalR3(48))
    assert isinstance(tr.weighting, pk.weighting.Product)
    _, terms, residuals = tr.losses()
    points = tr.sampler.points(0)
    r = residuals["pde"].detach()
    gate = tr.sampler.gate(points)
    lam = rba_by_hand(2.0, r.numpy(), 0.5, 1.0)
    assert float(terms["pde"].detach()) == pytest.approx(float(np.mean(gate.numpy() ** 2 * lam**2 * r.numpy() ** 2)),
                                                rel=1e-13)
    # per-term weights (several PDE terms) times per-point ones: the tensor weights every PDE term
    out = pk.weighting.weighting.multiply({"a": torch.ones(3), "ic": torch.tensor(2.0)}, torch.full((3,), 3.0),
                                          ("a", "b"))
    assert set(out) == {"a", "b", "ic"} and torch.all(out["a"] == 3) and torch.all(out["b"] == 3)
    assert out["ic"] == 2


@pytest.mark.parametrize("kwargs, match", [
    (dict(gamma=1.0), "gamma"), (dict(gamma=-0.1), "gamma"), (dict(eta=0.0), "eta"), (dict(eta=math.nan), "eta"),
    (dict(initial=-1.0), "initial"), (dict(new_points="zero"), "new_points"), (dict(gamma="0.9"), "gamma")])
def test_bad_arguments_are_refused_by_name(kwargs, match):
    for cls in (ResidualAttention, VariationalResidualAttention):
        with pytest.raises(ValueError, match=match):
            cls(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(potential="huber"), "potential"), (dict(phi=1.5), "phi"), (dict(c=0.0), "c must"),
    (dict(p=0.5), "p must"), (dict(normalisation="sum"), "normalisation")])
def test_bad_vrba_arguments_are_refused_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VariationalResidualAttention(**kwargs)


def test_a_residual_of_the_wrong_number_of_terms_is_refused():
    w = ResidualAttention()
    w.setup(single(("a", "b")), F64, CPU)
    with pytest.raises(ValueError, match="3 columns for the 2 PDE terms"):
        w.weights(torch.rand(5, 2, dtype=F64), torch.rand(5, 3, dtype=F64), {})


# ---------------------------------------------------------------------------------------------------- vRBA
def vrba(**kwargs):
    w = VariationalResidualAttention(**kwargs)
    w.setup(single(), F64, CPU)
    return w


def run(w, steps, n=200):
    points = torch.rand(n, 2, dtype=F64, generator=GEN)
    for _ in range(steps):
        r = torch.randn(n, dtype=F64, generator=GEN) ** 3
        w.weights(points, r, {})
        w.update(0)
    return r


def test_vrba_quadratic_potential_is_rba():
    a, b = vrba(potential="quadratic", gamma=0.9, eta=0.2), ResidualAttention(gamma=0.9, eta=0.2)
    b.setup(single(), F64, CPU)
    points = torch.rand(50, 2, dtype=F64, generator=GEN)
    for _ in range(4):
        r = torch.randn(50, dtype=F64, generator=GEN)
        torch.testing.assert_close(a.weights(points, r, {}), b.weights(points, r, {}), rtol=0, atol=0)
        a.update(0), b.update(0)


@pytest.mark.parametrize("potential", ["exponential", "lp", "linear"])
def test_vrba_signals_follow_their_formulas(potential):
    w = vrba(potential=potential, phi=0.7, c=2.0, p=3.0)
    run(w, 3)  # the exponential's temperature anneals with the number of updates, here 3
    r = torch.randn(200, dtype=F64, generator=GEN)
    rho = (r.abs() / r.abs().max()).numpy()
    q = {"exponential": (3 + 2.0) ** ((rho - 1) / 2.0), "lp": rho**2, "linear": np.ones_like(rho)}[potential]
    np.testing.assert_allclose(w.signal(r).numpy(), 0.7 * q / q.max() + 0.3, rtol=1e-13)
    lam = w.multipliers.numpy()
    w.weights(w.points, r, {})
    w.update(0)
    np.testing.assert_allclose(w.multipliers.numpy(), 0.999 * lam + 0.01 * (0.7 * q / q.max() + 0.3), rtol=1e-13)


def test_vrba_cosh_scale_makes_the_weights_a_density_of_mean_one():
    a = (torch.randn(500, 3, dtype=F64, generator=GEN) ** 3).abs() * torch.tensor([1e-3, 1.0, 1e3], dtype=F64)
    eps = cosh_scale(a)
    np.testing.assert_allclose(torch.sinh(a / eps).mean(dim=0).numpy(), 1.0, rtol=1e-10)
    w = vrba(potential="cosh", normalisation="mean")
    r = torch.randn(500, dtype=F64, generator=GEN)
    assert float(w.signal(r).mean()) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("potential", ["exponential", "cosh", "lp"])
def test_vrba_normalisations(potential):
    w = vrba(potential=potential, phi=0.6)  # by the maximum: signal in [1 - phi, 1], multipliers bounded
    r = run(w, 50)
    s = w.signal(r)
    assert float(s.max()) == pytest.approx(1.0) and float(s.min()) >= 0.4 - 1e-15
    assert float(w.multipliers.max()) <= 0.01 / (1 - 0.999)
    m = vrba(potential=potential, normalisation="mean", gamma=0.8, eta=0.2, initial=1.0)
    run(m, 20)  # by the mean, gamma + eta = 1, starting at 1: the multipliers keep mean 1
    assert float(m.multipliers.mean()) == pytest.approx(1.0, rel=1e-12)
    assert float(m.multipliers.std()) > 0.01
