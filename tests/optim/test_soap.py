"""SOAP against truth: an oracle written from the paper's algorithm, heavyball's SOAP, the eigenbasis it must use,
AdamW when nothing is rotated, an ill-conditioned quadratic, and the Trainer (a fit and a bitwise resume)."""

import io
import math

import pytest
import torch

import pinnkit as pk
from pinnkit.optim import SOAP

F64 = torch.float64


# ------------------------------------------------------------------------------------------------ the oracle
def oracle_soap(w0, grads, *, lr, betas, shampoo_beta, eps, weight_decay, frequency, rotate_rows, rotate_columns):
    """Test oracle, float64, straight from the paper's algorithm in vectorised form: ``vec(G') = (Q_R kron
    Q_L)^T vec(G)`` (column-major ``vec``), Adam on the vectors, the first call only building ``L, R`` and their
    ``eigh`` bases, a QR power-iteration refresh every ``frequency`` Adam steps (old columns sorted by their
    Rayleigh quotients, the first moment rotated, the second permuted). ``w0`` ``(m, n)``, ``grads`` a list of
    ``(m, n)``; returns the parameters after each call.

    The first factors (``(1 - b) G G^T``) are formed by the same float operations as SOAP's, so ``eigh`` gets the
    same matrix bitwise: for a non-square gradient they are rank-deficient and the basis of their null space is
    whatever ``eigh`` returns (any choice is SOAP, but Adam's coordinates there differ between choices)."""
    m, n = w0.shape
    vec = lambda x: x.T.reshape(-1)  # noqa: E731
    unvec = lambda v: v.reshape(n, m).T  # noqa: E731
    w, out = w0.clone(), []
    L, R = torch.zeros(m, m, dtype=F64), torch.zeros(n, n, dtype=F64)
    QL, QR = torch.eye(m, dtype=F64), torch.eye(n, dtype=F64)
    mom, sq = torch.zeros(m * n, dtype=F64), torch.zeros(m, n, dtype=F64)
    b1, b2 = betas
    for k, g in enumerate(grads):
        if k > 0:
            t = k
            kron = torch.kron(QR, QL)
            gp = kron.T @ vec(g)
            mom = b1 * mom + (1 - b1) * gp
            sq = b2 * sq + (1 - b2) * unvec(gp) ** 2
            direction = (mom / (1 - b1**t)) / (vec(sq / (1 - b2**t)).sqrt() + eps)
            w = w * (1 - lr * weight_decay) - lr * unvec(kron @ direction)
        if rotate_rows:
            L = shampoo_beta * L + (1 - shampoo_beta) * (g @ g.T)
        if rotate_columns:
            R = shampoo_beta * R + (1 - shampoo_beta) * (g.T @ g)
        if k == 0:
            QL = torch.linalg.eigh(L).eigenvectors.flip(1) if rotate_rows else QL
            QR = torch.linalg.eigh(R).eigenvectors.flip(1) if rotate_columns else QR
        elif k % frequency == 0:
            old = torch.kron(QR, QL)
            if rotate_rows:
                order = torch.argsort(torch.diag(QL.T @ L @ QL), descending=True)
                QL, sq = torch.linalg.qr(L @ QL[:, order]).Q, sq[order]
            if rotate_columns:
                order = torch.argsort(torch.diag(QR.T @ R @ QR), descending=True)
                QR, sq = torch.linalg.qr(R @ QR[:, order]).Q, sq[:, order]
            mom = torch.kron(QR, QL).T @ (old @ mom)
        out.append(w.clone())
    return out


def random_grads(shape, count, seed):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, dtype=F64, generator=gen) for _ in range(count)]


def run_soap(w0, grads, **options):
    w = torch.nn.Parameter(w0.clone())
    opt, out = SOAP([w], **options), []
    for g in grads:
        w.grad = g.clone()
        opt.step()
        out.append(w.detach().clone())
    return out, opt


OPTIONS = {"lr": 0.02, "betas": (0.9, 0.95), "shampoo_beta": 0.8, "eps": 1e-8, "weight_decay": 0.1,
           "precondition_frequency": 3}


@pytest.mark.parametrize(("shape", "precondition_1d", "sides"), [
    ((5, 5), False, (True, True)), ((6, 3), False, (True, True)), ((3, 6), False, (True, True)),
    ((3, 2, 2), False, (True, True)),  # seen as (3, 4)
    ((1, 5), False, (False, True)),  # one row: only the columns are rotated
    ((4,), False, (False, False)),  # a bias: plain Adam
    ((4,), True, (True, False)),  # a bias with precondition_1d: one-sided
])
def test_equals_the_oracle_through_basis_refreshes(shape, precondition_1d, sides):
    grads = random_grads(shape, 14, seed=1)
    w0 = torch.randn(shape, dtype=F64, generator=torch.Generator().manual_seed(2))
    ours, _ = run_soap(w0, grads, precondition_1d=precondition_1d, **OPTIONS)
    m, n = (shape[0], 1) if len(shape) == 1 else (shape[0], math.prod(shape[1:]))
    expected = oracle_soap(w0.reshape(m, n), [g.reshape(m, n) for g in grads], lr=0.02, betas=(0.9, 0.95),
                           shampoo_beta=0.8, eps=1e-8, weight_decay=0.1, frequency=3, rotate_rows=sides[0],
                           rotate_columns=sides[1])
    assert torch.equal(ours[0], w0)  # the first call only builds the bases
    for k, (a, b) in enumerate(zip(ours, expected, strict=True)):
        torch.testing.assert_close(a.reshape(m, n), b, rtol=0, atol=1e-12, msg=f"call {k + 1}")
    assert (ours[-1] - w0).abs().max() > 0.1  # it moved


# ------------------------------------------------------------------------------------------------ heavyball
def heavyball_comparison(floor_lift: bool):
    """Parameters ``W (5, 5)``, ``V (4, 4)``, ``b (4,)`` of a small regression on a fresh batch per step, trained
    30 steps by our SOAP and by heavyball's: the max abs difference per call."""
    heavyball = pytest.importorskip("heavyball")
    heavyball.utils.compile_mode = None  # eager: no torch.compile on the test machine
    gen = torch.Generator().manual_seed(0)
    start = [torch.randn(s, dtype=F64, generator=gen) for s in ((5, 5), (4, 4), (4,))]
    t1, t2 = torch.randn(5, 5, dtype=F64, generator=gen), torch.randn(5, 4, dtype=F64, generator=gen)
    batches = [torch.randn(16, 5, dtype=F64, generator=gen) for _ in range(30)]
    # scalars exactly representable in float32 (heavyball keeps lr and betas as float32 tensors) and a tiny eps
    # (heavyball divides by max(sqrt(v), eps), we by sqrt(v) + eps, as torch's Adam)
    options = {"lr": 2**-7, "betas": (0.875, 0.9375), "shampoo_beta": 0.75, "eps": 1e-30, "weight_decay": 0.0625,
               "precondition_frequency": 4}

    def run(make):
        ps = [torch.nn.Parameter(s.clone()) for s in start]
        opt, out = make(ps), []
        for x in batches:
            opt.zero_grad()
            w, v, b = ps
            ((torch.tanh(x @ w) @ t2 @ v + b - x @ t1 @ t2) ** 2).mean().backward()
            opt.step()
            out.append([p.detach().clone() for p in ps])
        return out

    def theirs(ps):
        opt = heavyball.SOAP(ps, storage_dtype="float64", merge_dims=False, **options)
        # heavyball counts refreshes from the first call, the authors' code (and ours) from the first Adam step
        opt.inner_group["cumulative_prob"] = -1.0 / options["precondition_frequency"]
        return opt

    original = heavyball.utils.get_orthogonal_matrix_QR
    if not floor_lift:  # heavyball's power iteration runs on L + 1e-8 max|eig| I; without that lift:
        heavyball.utils.get_orthogonal_matrix_QR = lambda *a, **k: original(*a, **{**k, "floor": 0.0})
    try:
        hb = run(theirs)
    finally:
        heavyball.utils.get_orthogonal_matrix_QR = original
    ours = run(lambda ps: SOAP(ps, **options))
    return [max(float((a - b).abs().max()) for a, b in zip(x, y, strict=True)) for x, y in zip(ours, hb, strict=True)]


def test_agrees_with_heavyball():
    """Up to the first basis refresh (calls 1-5) the two agree to round-off (measured 1.3e-15); after it they
    differ by heavyball's power iteration, which runs on ``L + lift max|eig| I``, lift = max(1e-8, 64 k eps):
    measured 2.6e-8 after 30 calls with six refreshes, 4.8e-9 with heavyball's 1e-8 floor set to 0 (what remains is
    its 64 k eps lift), while the parameters move by ~0.2."""
    diffs = heavyball_comparison(floor_lift=True)
    assert max(diffs[:5]) < 1e-14
    assert max(diffs) < 1e-7
    diffs_without_lift = heavyball_comparison(floor_lift=False)
    assert max(diffs_without_lift[:5]) < 1e-14
    assert max(diffs_without_lift) < 2e-8 and max(diffs_without_lift) < 0.5 * max(diffs)


# ------------------------------------------------------------------------------------------------ properties
def test_the_first_basis_is_the_eigenbasis_of_the_first_gradient():
    g1, g2, g3 = random_grads((5, 5), 3, seed=3)
    w0 = torch.zeros(5, 5, dtype=F64)
    out, opt = run_soap(w0, [g1, g2, g3], lr=0.1, shampoo_beta=0.0, eps=1e-8, weight_decay=0.0,
                        precondition_frequency=1000)
    state = opt.state[opt.param_groups[0]["params"][0]]
    for q, gram in ((state["Q_L"], g1 @ g1.T), (state["Q_R"], g1.T @ g1)):
        torch.testing.assert_close(q.T @ q, torch.eye(5, dtype=F64), rtol=0, atol=1e-13)
        rotated = q.T @ gram @ q
        eig = torch.linalg.eigvalsh(gram).flip(0)
        torch.testing.assert_close(rotated, torch.diag(eig), rtol=0, atol=1e-12)  # diagonal, decreasing
    torch.testing.assert_close(state["L"], g3 @ g3.T, rtol=1e-14, atol=0)  # shampoo_beta=0: the last gradient only
    # the second call: Adam's first step in that basis, m / (sqrt(v) + eps) = G' / (|G'| + eps)
    _, ql = torch.linalg.eigh(g1 @ g1.T)
    _, qr = torch.linalg.eigh(g1.T @ g1)  # another eigh: signs and order do not matter to the update
    rotated = ql.T @ g2 @ qr
    torch.testing.assert_close(out[1], -0.1 * ql @ (rotated / (rotated.abs() + 1e-8)) @ qr.T, rtol=0, atol=1e-14)


def test_without_rotation_it_is_adamw_from_its_second_call():
    gen = torch.Generator().manual_seed(4)
    shapes = [(4, 3), (3,), (2, 2, 2), ()]
    start = [torch.randn(s, dtype=F64, generator=gen) for s in shapes]
    grads = [[torch.randn(s, dtype=F64, generator=gen) for s in shapes] for _ in range(12)]
    ours = [torch.nn.Parameter(s.clone()) for s in start]
    adam = [torch.nn.Parameter(s.clone()) for s in start]
    soap = SOAP(ours, lr=0.05, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.1, max_precond_dim=0)
    adamw = torch.optim.AdamW(adam, lr=0.05, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.1, foreach=False)
    for k, gs in enumerate(grads):
        for p, g in zip(ours, gs, strict=True):
            p.grad = g.clone()
        soap.step()
        if k == 0:
            assert all(torch.equal(p, s) for p, s in zip(ours, start, strict=True))
            continue
        for p, g in zip(adam, gs, strict=True):
            p.grad = g.clone()
        adamw.step()
        for a, b in zip(ours, adam, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-15)
    assert set(soap.state[ours[0]]) == {"step", "exp_avg", "exp_avg_sq"}  # no factors kept


def test_beats_adam_on_an_ill_conditioned_matrix_quadratic():
    """``|A W B - C|^2`` with condition numbers 100 of A and B, rotated: a Kronecker-factored Hessian of
    condition 1e8 that Adam's diagonal cannot capture. Best loss over the same learning rates after 300 steps
    (measured: SOAP 1.2e-6, Adam 1.6e-4 of the initial loss)."""
    gen = torch.Generator().manual_seed(5)
    orth = lambda: torch.linalg.qr(torch.randn(8, 8, dtype=F64, generator=gen)).Q  # noqa: E731
    a = orth() @ torch.diag(torch.logspace(0, -2, 8, dtype=F64)) @ orth()
    b = orth() @ torch.diag(torch.logspace(0, -2, 8, dtype=F64)) @ orth()
    c = a @ torch.randn(8, 8, dtype=F64, generator=gen) @ b

    def final_loss(make):
        w = torch.nn.Parameter(torch.zeros(8, 8, dtype=F64))
        opt = make([w])
        for _ in range(300):
            opt.zero_grad()
            loss = (a @ w @ b - c).square().sum()
            loss.backward()
            opt.step()
        return float((a @ w.detach() @ b - c).square().sum())

    lrs = (0.01, 0.03, 0.1, 0.3)
    soap = min(final_loss(lambda p, lr=lr: SOAP(p, lr=lr, weight_decay=0.0)) for lr in lrs)
    adam = min(final_loss(lambda p, lr=lr: torch.optim.Adam(p, lr=lr, betas=(0.95, 0.95))) for lr in lrs)
    start = float(c.square().sum())
    assert soap < 1e-5 * start
    assert soap < 0.05 * adam, (soap, adam)


@pytest.mark.parametrize(("argument", "value", "match"), [
    ("lr", 0.0, "lr must be a positive"), ("betas", (0.9, 1.0), "betas must be a pair"),
    ("shampoo_beta", 1.0, "shampoo_beta must be a number in"), ("shampoo_beta", "0.9", "shampoo_beta must be"),
    ("eps", -1e-8, "eps must be a non-negative"), ("weight_decay", math.nan, "weight_decay must be a non-negative"),
    ("precondition_frequency", 0, "precondition_frequency must be a positive integer"),
    ("precondition_frequency", 2.0, "precondition_frequency must be a positive integer"),
    ("max_precond_dim", -1, "max_precond_dim must be a non-negative integer"),
    ("precondition_1d", 1, "precondition_1d must be True or False|precondition_1d must be a bool"),
])
def test_bad_arguments_name_the_argument(argument, value, match):
    w = torch.nn.Parameter(torch.zeros(2, 2))
    with pytest.raises(ValueError, match=match):
        SOAP([w], **{argument: value})
    with pytest.raises(ValueError, match=match):  # a parameter group's own setting too
        SOAP([{"params": [w], argument: value}])


def test_state_dict_survives_weights_only_load_and_resumes_bitwise():
    grads = random_grads((4, 3), 12, seed=6) + random_grads((4, 3), 12, seed=7)
    straight, _ = run_soap(torch.zeros(4, 3, dtype=F64), grads, precondition_frequency=4)
    w = torch.nn.Parameter(torch.zeros(4, 3, dtype=F64))
    opt = SOAP([w], precondition_frequency=4)
    for g in grads[:9]:  # stop between two refreshes
        w.grad = g.clone()
        opt.step()
    buffer = io.BytesIO()
    torch.save({"w": w.detach().clone(), "opt": opt.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    w2 = torch.nn.Parameter(saved["w"])
    opt2 = SOAP([w2], precondition_frequency=4)
    opt2.load_state_dict(saved["opt"])
    for g in grads[9:]:
        w2.grad = g.clone()
        opt2.step()
    assert torch.equal(w2.detach(), straight[-1])


def test_closure_is_evaluated_and_returned():
    w = torch.nn.Parameter(torch.ones(3, 2, dtype=F64))
    opt = SOAP([w])

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure).detach()) == 6.0
    assert w.grad is not None


# ------------------------------------------------------------------------------------------------ the Trainer
def poisson_trainer(seed=0, **kw):
    """``-u'' = pi^2 sin(pi x)`` on (0, 1), ``u(0) = u(1) = 0``, a small float64 MLP."""
    domain = pk.geometry.Interval(0, 1)
    problem = pk.Problem(domain, lambda f: -f.u_xx - math.pi**2 * torch.sin(math.pi * f.x), outputs="u",
                         conditions=[pk.DirichletBC(domain.boundary, 0.0, n=2)])
    torch.manual_seed(seed)
    net = pk.nets.MLP(1, 1, width=8, depth=2)
    return pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(32), dtype=F64, seed=seed, **kw)


def params(t):
    return [p.detach().clone() for p in t.trainable_parameters()]


def test_trainer_fits_with_soap_and_resumes_bitwise(tmp_path):
    options = {"precondition_frequency": 3}
    straight = poisson_trainer(lr=1e-2)
    straight.fit(50, optimizer="soap", optimizer_options=options, progress=False, log_every=10)
    assert straight.optimizer_name == "soap" and isinstance(straight.optimizer, SOAP)
    losses = [r["loss"] for r in straight.history]
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)) and losses[-1] < 0.7 * losses[0], losses

    first = poisson_trainer(lr=1e-2, optimizer="soap", optimizer_options=options)
    first.fit(20, optimizer="soap", optimizer_options=options, progress=False, log_every=10)  # mid refresh cycle
    first.save(tmp_path / "soap.pt")
    resumed = poisson_trainer(seed=7)  # another initialisation and optimizer: the checkpoint decides
    resumed.load_state(tmp_path / "soap.pt")
    assert resumed.optimizer_name == "soap"
    resumed.fit(30, progress=False, log_every=10)
    for a, b in zip(params(straight), params(resumed), strict=True):
        assert torch.equal(a, b)
    assert [r["loss"] for r in straight.history] == [r["loss"] for r in resumed.history]
