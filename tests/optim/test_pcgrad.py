"""PCGrad: a two-gradient case by hand, no projection without conflict, reproducible random orders."""

import copy

import pytest
import torch

import pinnkit as pk


def linear_losses(x, grads):
    """Losses x . g_i, whose gradients are the rows g_i."""
    return {f"l{i}": x @ g for i, g in enumerate(grads)}


def one_sgd_step(grads, **kw):
    x = torch.zeros(grads.shape[1], dtype=torch.float64, requires_grad=True)
    opt = pk.optim.PCGrad([x], "sgd", lr=1.0, **kw)
    opt.step_losses(linear_losses(x, grads), pde_terms=())
    return -x.detach()  # the direction


def test_two_conflicting_gradients_by_hand():
    """g1 = (1, 0), g2 = (-1, 1): g1 . g2 = -1 < 0, so
    g1' = g1 - (-1 / |g2|^2) g2 = (1, 0) + (-1, 1) / 2 = (0.5, 0.5),  g2' = g2 - (-1 / |g1|^2) g1 = (0, 1);
    the direction is g1' + g2' = (0.5, 1.5)."""
    grads = torch.tensor([[1.0, 0.0], [-1.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(one_sgd_step(grads), torch.tensor([0.5, 1.5], dtype=torch.float64))


def test_no_conflict_no_projection():
    grads = torch.tensor([[1.0, 0.0, 2.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(one_sgd_step(grads), grads.sum(0))


def test_three_gradients_follow_the_generators_orders():
    """With three mutually conflicting gradients the order matters; the optimizer's own generator decides it,
    so equal seeds give equal runs, the global random state is untouched, and the state dict resumes it."""
    grads = torch.tensor([[1.0, 0.0], [-0.8, 1.0], [-0.5, -1.0]], dtype=torch.float64)

    def run(opt, x, steps):
        out = []
        for _ in range(steps):
            opt.step_losses(linear_losses(x, grads), pde_terms=())
            out.append(x.detach().clone())
        return out

    x1 = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    x2 = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    before = torch.get_rng_state()
    a = run(pk.optim.PCGrad([x1], "sgd", lr=1.0, seed=3), x1, 8)
    assert torch.equal(torch.get_rng_state(), before)
    b_opt = pk.optim.PCGrad([x2], "sgd", lr=1.0, seed=3)
    b = run(b_opt, x2, 4)
    saved = copy.deepcopy(b_opt.state_dict())
    b_opt.step_losses(linear_losses(x2, grads), pde_terms=())  # a step that the load undoes
    x2.data.copy_(b[-1])
    b_opt.load_state_dict(saved)
    b += run(b_opt, x2, 4)
    for p, q in zip(a, b, strict=True):
        assert torch.equal(p, q)
    steps = torch.stack([a[0]] + [a[k + 1] - a[k] for k in range(7)])
    assert len({tuple(s.tolist()) for s in steps}) > 1  # different orders were drawn


def test_bad_arguments():
    x = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        pk.optim.PCGrad([x], seed=-1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        pk.optim.PCGrad("adam", seed=1.5)
