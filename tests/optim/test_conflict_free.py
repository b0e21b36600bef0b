"""conflict_free_direction against the authors' package, its stated properties, the closed form for two losses,
and degenerate inputs."""

import numpy as np
import pytest
import torch

from pinnkit.optim import conflict_free_direction


def random_grads(m, d, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    scales = torch.logspace(-2, 2, m, dtype=torch.float64)[:, None]  # norms spread over four orders
    return (torch.randn(m, d, generator=g, dtype=torch.float64) * scales).to(dtype)


def cosines(grads, d):
    return (grads @ d) / (grads.norm(dim=1) * d.norm())


def min_norm_direction(grads):
    """The general formula, independently in numpy: x = pinv(U) 1, g_u = x/|x|, (sum_i g_i . g_u) g_u."""
    g = grads.numpy()
    norms = np.linalg.norm(g, axis=1, keepdims=True)
    u = np.divide(g, norms, out=np.zeros_like(g), where=norms > 0)
    x = np.linalg.lstsq(u, np.ones(len(g)), rcond=None)[0]  # minimum-norm least squares
    gu = x / np.linalg.norm(x)
    return torch.from_numpy((g @ gu).sum() * gu)


@pytest.mark.parametrize("m", [2, 3, 5])
def test_equals_the_conflictfree_package(m):
    grad_operator = pytest.importorskip("conflictfree.grad_operator")
    for seed in range(5):
        grads = random_grads(m, 200, seed, torch.float32)  # the package needs float32
        expected = grad_operator.ConFIG_update(grads)
        got = conflict_free_direction(grads)
        assert got.dtype == torch.float32 and got.shape == (200,)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5 * float(expected.abs().max()))


@pytest.mark.parametrize("m", [2, 3, 5])
def test_equal_positive_cosines_in_float64(m):
    for seed in range(5):
        grads = random_grads(m, 300, seed)
        c = cosines(grads, conflict_free_direction(grads))
        assert c.min() > 0
        torch.testing.assert_close(c, c.mean().expand(m), rtol=1e-12, atol=0)


def test_two_losses_closed_form_equals_the_general_formula_and_the_papers_form():
    def unit(v):
        return v / v.norm()

    def orthogonal(a, b):  # O(a, b) = b - (a.b / |a|^2) a
        return b - (a @ b) / (a @ a) * a

    for seed in range(10):
        g1, g2 = random_grads(2, 50, seed)
        got = conflict_free_direction(torch.stack([g1, g2]))
        torch.testing.assert_close(got, min_norm_direction(torch.stack([g1, g2])), rtol=1e-12, atol=1e-14)
        g_v = unit(unit(orthogonal(g1, g2)) + unit(orthogonal(g2, g1)))
        torch.testing.assert_close(got, (g1 @ g_v + g2 @ g_v) * g_v, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("m", [3, 5])
def test_general_case_equals_numpy_minimum_norm_solution(m):
    grads = random_grads(m, 40, seed=3)
    torch.testing.assert_close(conflict_free_direction(grads), min_norm_direction(grads), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_zero_gradients_are_left_out(m):
    grads = random_grads(m, 30, seed=1)
    with_zero = torch.cat([grads[:1], torch.zeros(1, 30, dtype=grads.dtype), grads[1:]])
    d = conflict_free_direction(with_zero)
    torch.testing.assert_close(d, conflict_free_direction(grads), rtol=1e-12, atol=1e-15)
    assert torch.equal(conflict_free_direction(torch.zeros(m, 30, dtype=torch.float64)), torch.zeros(30,
                                                                                                   dtype=torch.float64))


def test_single_loss_is_its_gradient():
    grads = random_grads(1, 10)
    assert torch.equal(conflict_free_direction(grads), grads[0])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_parallel_gradients(dtype):
    g = random_grads(1, 64, seed=2, dtype=dtype)[0]
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    # same direction, different lengths: the direction is g's and the length the sum of the projections
    d = conflict_free_direction(torch.stack([g, 3 * g]))
    torch.testing.assert_close(d, 4 * g, rtol=tol, atol=tol * float(g.abs().max()))
    d = conflict_free_direction(torch.stack([g, 3 * g, 0.1 * g]))
    torch.testing.assert_close(d, 4.1 * g, rtol=tol, atol=tol * float(g.abs().max()))
    # one pair parallel, a third independent: still equal cosines with all three
    h = random_grads(2, 64, seed=5, dtype=dtype)[1]
    grads = torch.stack([g, 7 * g, h])
    c = cosines(grads, conflict_free_direction(grads))
    assert torch.isfinite(c).all() and c.min() > 0
    torch.testing.assert_close(c, c.mean().expand(3), rtol=tol, atol=0)


def test_opposite_gradients():
    """Two opposite gradients: no direction keeps both losses from increasing, so no update. With a third
    gradient the least-squares solution of U x = 1 is taken, as the general formula says (here the majority's
    direction)."""
    g = random_grads(1, 20, seed=4)[0]
    d = conflict_free_direction(torch.stack([g, -2 * g]))
    assert torch.isfinite(d).all() and float(d.norm()) <= 1e-7 * float(g.norm())
    grads = torch.stack([g, -2 * g, -0.5 * g])
    torch.testing.assert_close(conflict_free_direction(grads), -1.5 * g, rtol=1e-12, atol=1e-15)


def test_more_losses_than_parameters():
    grads = random_grads(5, 3, seed=6)
    d = conflict_free_direction(grads)
    assert d.shape == (3,) and torch.isfinite(d).all()
    torch.testing.assert_close(d, min_norm_direction(grads), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bad,match", [
    (torch.zeros(3), r"shape \(m, D\)"),
    (torch.zeros(0, 4), r"shape \(m, D\)"),
    (torch.zeros(2, 4, dtype=torch.int64), "floating-point"),
    ([[1.0, 2.0]], "must be a tensor"),
])
def test_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        conflict_free_direction(bad)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("m", [2, 3, 5])
def test_cuda_matches_cpu(m):
    grads = random_grads(m, 1000, seed=7)
    got = conflict_free_direction(grads.cuda())
    assert got.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), conflict_free_direction(grads), rtol=1e-10, atol=1e-12)
