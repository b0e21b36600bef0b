"""The dense quasi-Newton optimizers against truth: quadratic termination of BFGS with exact line searches, the
secant condition and positive definiteness after every update, Rosenbrock's minimum, strong-Wolfe steps, scipy's
BFGS as an oracle, training and bitwise resume through the Trainer, and their refusals."""

import io
import math
import warnings

import numpy as np
import pytest
import scipy.optimize
import torch

import pinnkit as pk
from pinnkit.optim import BFGS, SSBFGS, LineSearchResult, QuasiNewton, SSBroyden, broyden_update, strong_wolfe
from pinnkit.optim.broyden import ssbroyden_scaling
from pinnkit.training.optimizers import quasi_newton_stop_reason, step_kind
from tests.training.test_loop import Quadratic

F64 = torch.float64
EPS = torch.finfo(F64).eps
METHODS = [BFGS, SSBFGS, SSBroyden]


def rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def rosenbrock_start(n):
    x = torch.full((n,), -1.2, dtype=F64)
    x[1::2] = 1.0
    return x.requires_grad_(True)


def convex_quadratic(n, seed):
    """``(A, b)`` of ``f = x^T A x / 2 - b^T x``, A symmetric positive definite with condition number ~100."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, dtype=F64, generator=g))
    A = q @ torch.diag(torch.logspace(0, 2, n, dtype=F64)) @ q.T
    return 0.5 * (A + A.T), torch.randn(n, dtype=F64, generator=g)


def minimize(cls, x, f, **options):
    opt = cls([x], **{"max_iter": 1000, "max_eval": 20000, "tolerance_grad": 0.0, "tolerance_change": 0.0,
                      **options})

    def closure():
        opt.zero_grad()
        loss = f(x)
        loss.backward()
        return loss

    return opt, closure


# ---------------------------------------------------------------------------------------------------- quadratics
@pytest.mark.parametrize("n", range(2, 9))
def test_bfgs_with_exact_line_searches_ends_on_a_quadratic_in_at_most_n_iterations(n):
    A, b = convex_quadratic(n, seed=n)
    solution = torch.linalg.solve(A, b)

    def exact(evaluate, d, loss, g, step, max_evals):  # alpha = -g.d / d^T A d
        alpha = float(-(g @ d) / (d @ A @ d))
        value, grad = evaluate(alpha)
        return LineSearchResult(alpha, value, grad, 1, True, True)

    x = torch.zeros(n, dtype=F64, requires_grad=True)
    opt, closure = minimize(BFGS, x, lambda z: 0.5 * z @ A @ z - b @ z, line_search=exact, max_iter=n)
    opt.step(closure)
    assert opt.state[x]["n_iter"] <= n
    torch.testing.assert_close(x.detach(), solution, rtol=0, atol=1e-10 * float(solution.abs().max()))
    # and after n exact steps from H_0 = I, BFGS's H is the inverse Hessian (Nocedal & Wright, Thm. 6.4 ff.)
    if opt.state[x]["n_iter"] == n:
        torch.testing.assert_close(opt.state[x]["H"], torch.linalg.inv(A), rtol=1e-7, atol=1e-9)


def test_broyden_update_is_the_formula_and_bfgs_is_its_tau_phi_one_member():
    torch.manual_seed(0)
    n = 5
    H = torch.randn(n, n, dtype=F64)
    H = H @ H.T + torch.eye(n, dtype=F64)
    s, y = torch.randn(n, dtype=F64), torch.randn(n, dtype=F64)
    y = y if float(y @ s) > 0 else -y
    rho = 1 / float(y @ s)
    eye = torch.eye(n, dtype=F64)
    bfgs = (eye - rho * torch.outer(s, y)) @ H @ (eye - rho * torch.outer(y, s)) + rho * torch.outer(s, s)
    torch.testing.assert_close(broyden_update(H, s, y), bfgs, rtol=1e-12, atol=1e-12)
    for tau, phi in [(0.5, 1.0), (1.0, 0.0), (2.0, 0.3)]:
        Hy, yHy = H @ y, float(y @ H @ y)
        v = s * rho - Hy / yHy
        expected = (H - torch.outer(Hy, Hy) / yHy + phi * yHy * torch.outer(v, v)) / tau + rho * torch.outer(s, s)
        new = broyden_update(H, s, y, tau, phi)
        torch.testing.assert_close(new, expected, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(new @ y, s, rtol=1e-12, atol=1e-12)  # the secant condition, any tau, phi
    assert not torch.equal(broyden_update(H, s, y, 2.0, 0.3), H)  # pure: H itself is unchanged
    H0 = H.clone()
    broyden_update(H, s, y)
    assert torch.equal(H, H0)


def test_ssbroyden_scalars_are_in_the_range_that_keeps_h_positive_definite():
    rng = np.random.default_rng(0)
    for _ in range(200):
        b, h = np.exp(rng.uniform(-5, 5, size=2))
        a = max(b * h - 1, 0.0)
        tau, phi = ssbroyden_scaling(b, h, a, n=7)
        assert tau > 0 and math.isfinite(phi)
        if a > 1e-12:  # phi above the degenerate value -1/a of theta, in the inverse update's parametrisation
            theta = (1 - phi) / (1 + a * phi)
            assert theta > -1 / a
    assert ssbroyden_scaling(2.0, 0.5, 0.0, n=1) == (0.5, 1.0)  # a = 0: v = 0, the SSBFGS scaling


# ---------------------------------------------------------------------------------------------------- every update
@pytest.mark.parametrize("cls", METHODS)
@pytest.mark.parametrize("problem", ["quadratic", "rosenbrock"])
def test_every_update_satisfies_the_secant_condition_and_stays_positive_definite(cls, problem):
    if problem == "quadratic":
        A, b = convex_quadratic(6, seed=3)
        x, f, iterations = torch.ones(6, dtype=F64, requires_grad=True), lambda z: 0.5 * z @ A @ z - b @ z, 12
    else:
        x, f, iterations = rosenbrock_start(4), rosenbrock, 40
    opt, closure = minimize(cls, x, f, max_iter=1)
    updates = 0
    for _ in range(iterations):
        opt.step(closure)
        if "H" in opt.state[x]:
            break
    for _ in range(iterations):
        x0, g0, H0 = x.detach().clone(), x.grad.detach().clone(), opt.state[x]["H"].clone()
        opt.step(closure)
        H = opt.state[x]["H"]
        s, y = x.detach() - x0, x.grad.detach() - g0
        if float(s.abs().max()) == 0:
            break  # converged to the last bit
        if torch.equal(H, H0):
            continue  # skipped (curvature y^T s not safely positive)
        updates += 1
        assert torch.equal(H, H.T)
        residual = float((H @ y - s).norm())
        # round-off of the update, plus that of s measured here as x_{k+1} - x_k (x_{k+1} = x_k + s_k rounds)
        bound = 1e-9 * (float(H.norm()) * float(y.norm()) + float(s.norm())) + 8 * EPS * float(x.detach().norm())
        assert residual <= bound, (updates, residual, bound)
        assert int(torch.linalg.cholesky_ex(H).info) == 0
        assert float(torch.linalg.eigvalsh(H).min()) > 0
    assert updates >= min(iterations, 10) // 2


# ---------------------------------------------------------------------------------------------------- Rosenbrock
@pytest.mark.parametrize("cls", METHODS)
@pytest.mark.parametrize("n", [2, 10])
def test_rosenbrock_converges_to_its_minimum_in_float64(cls, n):
    x = rosenbrock_start(n)
    opt, closure = minimize(cls, x, rosenbrock)
    first = opt.step(closure)
    assert float(first.detach()) == float(rosenbrock(rosenbrock_start(n)).detach())  # the loss it started from
    assert float((x.detach() - 1).abs().max()) <= 1e-10
    assert 0 < opt.state[x]["n_iter"] < 300 and opt.state[x]["func_evals"] < 600


@pytest.mark.parametrize("cls", METHODS)
def test_every_accepted_step_satisfies_both_strong_wolfe_conditions(cls):
    records = []

    def recording(evaluate, d, loss, g, step, max_evals):
        seen = {}

        def tracked(alpha):
            value, grad = evaluate(alpha)
            seen[alpha] = (value, float(grad @ d))
            return value, grad

        out = strong_wolfe(tracked, d, loss, g, step, max_evals=max_evals)
        records.append((loss, float(g @ d), out, seen))
        return out

    x = rosenbrock_start(10)
    opt, closure = minimize(cls, x, rosenbrock, line_search=recording)
    opt.step(closure)
    accepted = [r for r in records if r[2].decrease]
    assert len(accepted) == opt.state[x]["n_iter"] > 20
    for loss, slope, out, seen in accepted:
        value, derivative = seen[out.step]  # recomputed from the evaluations themselves
        if value == loss:  # at the minimum to the last bit: nothing left to decrease
            continue
        assert out.wolfe
        assert value <= loss + 1e-4 * out.step * slope
        assert abs(derivative) <= 0.9 * abs(slope)


def test_bfgs_ends_where_scipy_bfgs_ends():
    rng = np.random.default_rng(1)
    M, c = rng.normal(size=(6, 4)), rng.normal(size=6)

    def f_np(z):  # log-sum-exp of an affine map plus a quadratic: smooth, strictly convex, one minimizer
        u = M @ z + c
        return np.log(np.exp(u).sum()) + 0.25 * z @ z + 0.1 * np.sum(z ** 4)

    def g_np(z):
        u = M @ z + c
        p = np.exp(u) / np.exp(u).sum()
        return M.T @ p + 0.5 * z + 0.4 * z ** 3

    start = np.array([1.0, -2.0, 0.5, 3.0])
    oracle = scipy.optimize.minimize(f_np, start, jac=g_np, method="BFGS", options={"gtol": 1e-12})
    Mt, ct = torch.tensor(M), torch.tensor(c)

    def f(z):
        return torch.logsumexp(Mt @ z + ct, 0) + 0.25 * z @ z + 0.1 * (z ** 4).sum()

    x = torch.tensor(start, requires_grad=True)
    opt, closure = minimize(BFGS, x, f)
    opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), oracle.x, rtol=0, atol=1e-8)


@pytest.mark.parametrize("cls", METHODS)
def test_non_finite_trial_points_are_never_accepted(cls):
    # f = sum(x - log x): NaN for x < 0; a trial step of 50 overshoots into it again and again
    x = torch.tensor([3.0, 0.5, 7.0], dtype=F64, requires_grad=True)
    values = []

    def f(z):
        loss = (z - torch.log(z)).sum()
        values.append(float(loss.detach()))
        return loss

    opt = cls([x], lr=50.0, max_iter=200, max_eval=5000, tolerance_grad=0.0, tolerance_change=0.0)

    def closure():
        opt.zero_grad()
        loss = f(x)
        if torch.isfinite(loss):
            loss.backward()
        return loss

    opt.step(closure)
    assert sum(not math.isfinite(v) for v in values) >= 3  # it did step into the NaN region
    assert math.isfinite(values[-1])  # and the closure's last evaluation is at the finite accepted point
    assert float((x.detach() - 1).abs().max()) <= 1e-8


@pytest.mark.parametrize("name", ["bfgs", "ssbroyden"])
def test_a_nan_in_the_line_search_does_not_stop_the_loop_with_an_error(name):
    loop = pk.training.TrainingLoop(Quadratic(sqrt=True), optimizer="adam", lr=0.05)
    loop.fit(0, progress=False)
    start = loop.history[-1]["loss"]
    loop.fit(50, optimizer=name, progress=False)  # sqrt(x_0) is NaN below 0, where the unit steps go
    assert math.isfinite(loop.history[-1]["loss"]) and loop.history[-1]["loss"] < start
    assert loop.stop_reason.startswith(f"{pk.training.optimizers.QUASI_NEWTON_NAMES[name]} stopped after")


# ---------------------------------------------------------------------------------------------------- state
@pytest.mark.parametrize("cls", METHODS)
def test_the_state_round_trips_through_torch_save_and_resumes_bitwise(cls):
    straight = rosenbrock_start(6)
    opt, closure = minimize(cls, straight, rosenbrock, max_iter=15)
    opt.step(closure)
    opt.step(closure)
    x = rosenbrock_start(6)
    first, first_closure = minimize(cls, x, rosenbrock, max_iter=15)
    first.step(first_closure)
    buffer = io.BytesIO()
    torch.save({"x": x.detach(), "optimizer": first.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed_x = saved["x"].clone().requires_grad_(True)
    resumed, resumed_closure = minimize(cls, resumed_x, rosenbrock, max_iter=15)
    resumed.load_state_dict(saved["optimizer"])
    assert resumed.state[resumed_x]["n_iter"] == 15
    resumed.step(resumed_closure)
    assert torch.equal(resumed_x, straight)
    assert torch.equal(resumed.state[resumed_x]["H"], opt.state[straight]["H"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("cls", METHODS)
def test_rosenbrock_on_cuda_matches_the_minimum(cls):
    x = rosenbrock_start(4).detach().cuda().requires_grad_(True)
    opt, closure = minimize(cls, x, rosenbrock)
    opt.step(closure)
    assert opt.state[x]["H"].device == x.device
    assert float((x.detach() - 1).abs().max()) <= 1e-10


def test_the_kind_of_step_and_the_stop_reason_name_the_method():
    x = rosenbrock_start(2)
    for cls, name, shown in [(BFGS, "bfgs", "BFGS"), (SSBFGS, "ssbfgs", "SSBFGS"), (SSBroyden, "ssbroyden",
                                                                                     "SSBroyden")]:
        opt = cls([x], tolerance_grad=0.0)
        x.grad = torch.ones_like(x)
        assert isinstance(opt, QuasiNewton) and step_kind(opt) == "quasi_newton"
        assert pk.training.OPTIMIZERS[name] is cls and pk.optim.__dict__[cls.__name__] is cls
        assert quasi_newton_stop_reason(opt, name, 3).startswith(f"{shown} stopped after 3 iterations")


# ---------------------------------------------------------------------------------------------------- refusals
def test_the_storage_limit_is_refused_at_construction_naming_lbfgs():
    x = torch.zeros(100, dtype=F64, requires_grad=True)  # H: 100 x 100 x 8 bytes = 80 000 bytes
    with pytest.raises(ValueError, match=r'SSBroyden keeps a dense 100 x 100 inverse Hessian.*L-BFGS '
                                         r'\(optimizer="lbfgs"\)'):
        SSBroyden([x], max_dense_bytes=79_999)
    SSBroyden([x], max_dense_bytes=80_000)
    big = torch.zeros(20_000, dtype=F64, requires_grad=True)  # 3.2 GB above the 2 GiB default
    with pytest.raises(ValueError, match="above max_dense_bytes = 2147483648"):
        BFGS([big])


def test_float32_warns_and_mixed_or_grouped_parameters_are_refused():
    with pytest.warns(UserWarning, match=r"BFGS with torch.float32 parameters.*use float64"):
        BFGS([torch.zeros(3, requires_grad=True)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BFGS([torch.zeros(3, dtype=F64, requires_grad=True)])  # float64: no warning
    a, b = torch.zeros(3, dtype=F64, requires_grad=True), torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="every parameter of one dtype on one device.*float64 on cpu and "
                                         "torch.float32 on cpu"):
        SSBFGS([a, b])
    with pytest.raises(ValueError, match="one group of parameters.*got 2 groups"):
        BFGS([{"params": [a]}, {"params": [torch.zeros(2, dtype=F64, requires_grad=True)]}])
    with pytest.raises(ValueError, match="real floating-point parameters"):
        BFGS([torch.zeros(3, dtype=torch.complex128, requires_grad=True)])
    for kwargs, message in [({"c1": 0.95}, "0 < c1 < c2 < 1"), ({"c2": 1.5}, r"c2 must be a number in \(0, 1\)"),
                            ({"max_iter": 0}, "max_iter must be a positive integer"),
                            ({"lr": -1.0}, "lr must be a positive finite number"),
                            ({"tolerance_grad": -1.0}, "tolerance_grad must be a non-negative"),
                            ({"line_search": "wolfe"}, "line_search must be a function")]:
        with pytest.raises(ValueError, match=message):
            SSBroyden([a], **kwargs)
    with pytest.raises(ValueError, match="needs a closure"):
        BFGS([a]).step(None)


# ---------------------------------------------------------------------------------------------------- the Trainer
def poisson_trainer(**kwargs):
    torch.manual_seed(0)
    problem = pk.Problem(pk.geometry.Interval(0, 1), lambda f: f.u_xx + math.pi ** 2 * torch.sin(math.pi * f.x),
                         conditions=[pk.DirichletBC(None, 0.0, n=2)])
    return pk.Trainer(problem, pk.nets.MLP(1, 1, width=6, depth=2), sampler=pk.sampling.FixedPoints(24),
                      dtype=F64, **kwargs)


def test_ssbroyden_trains_after_adam_through_the_trainer_and_resumes_bitwise(tmp_path):
    half = pk.training.QUASI_NEWTON_CHUNK
    straight = poisson_trainer()
    straight.fit(5, optimizer="adam", lr=1e-2, progress=False)
    after_adam = straight.history[-1]["loss"]
    straight.fit(2 * half, optimizer="ssbroyden", progress=False)
    assert straight.optimizer_name == "ssbroyden" and isinstance(straight.optimizer, SSBroyden)
    assert straight.optimizer.param_groups[0]["tolerance_grad"] == 0.0  # no tolerance stops by default
    assert straight.history[-1]["loss"] < 1e-3 * after_adam
    first = poisson_trainer()
    first.fit(5, optimizer="adam", lr=1e-2, progress=False)
    first.fit(half, optimizer="ssbroyden", progress=False)
    first.save(tmp_path / "qn.pt")
    resumed = poisson_trainer()
    resumed.load_state(tmp_path / "qn.pt")
    assert resumed.optimizer_name == "ssbroyden"
    resumed.fit(half, progress=False)
    assert resumed.step == straight.step
    for a, b in zip(straight.trainable_parameters(), resumed.trainable_parameters(), strict=True):
        assert torch.equal(a, b)
    assert resumed.history[-1]["loss"] == straight.history[-1]["loss"]


def test_the_trainer_refuses_a_too_large_dense_hessian_and_warns_in_float32():
    trainer = poisson_trainer()
    with pytest.raises(ValueError, match=r'BFGS keeps a dense .* Use L-BFGS \(optimizer="lbfgs"\)'):
        trainer.fit(3, optimizer="bfgs", optimizer_options={"max_dense_bytes": 1000}, progress=False)
    torch.manual_seed(0)
    problem = pk.Problem(pk.geometry.Interval(0, 1), lambda f: f.u_xx + 1.0, conditions=[pk.DirichletBC(None, 0.0,
                                                                                                         n=2)])
    single = pk.Trainer(problem, pk.nets.MLP(1, 1, width=4, depth=1), sampler=pk.sampling.FixedPoints(8),
                        dtype=torch.float32)
    with pytest.warns(UserWarning, match="SSBFGS with torch.float32 parameters"):
        single.fit(2, optimizer="ssbfgs", progress=False)
