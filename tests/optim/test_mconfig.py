"""M-ConFIG: one backward pass per step in round robin, zero update until every loss has been seen, and the
rule against a direct transcription of it."""

import pytest
import torch

import pinnkit as pk
from pinnkit.optim import conflict_free_direction

A = torch.tensor([[1.0, 0.0, 0.5], [0.0, 2.0, 0.0], [1.0, 1.0, 1.0]], dtype=torch.float64)


def losses_of(x, counter=None):
    losses = {"pde": ((A @ x - 1) ** 2).sum(), "bc": ((x - 2) ** 2).sum(), "ic": (x[0] + x[1]) ** 2}
    if counter is not None:  # count which losses are backpropagated
        for name, value in losses.items():
            value.register_hook(lambda g, name=name: counter.append(name))
    return losses


def test_one_loss_per_step_and_zero_update_until_all_were_seen():
    x = torch.tensor([0.3, -0.2, 0.7], dtype=torch.float64, requires_grad=True)
    start = x.detach().clone()
    opt = pk.optim.MConFIG([x], "sgd", lr=0.1)
    seen = []
    for step in range(1, 7):
        opt.step_losses(losses_of(x, seen), pde_terms=("pde",))
        if step < 3:
            assert torch.equal(x.detach(), start) and x.grad is None
        else:
            assert not torch.equal(x.detach(), start)
    assert seen == ["pde", "bc", "ic", "pde", "bc", "ic"]


@pytest.mark.parametrize("second_moment", ["direction", "pseudo_gradient"])
def test_matches_the_rule(second_moment):
    """Transcription of the rule on flat vectors: m_i per loss (bias-corrected by its own count), ConFIG of the
    corrected moments, v on s (the direction, or the pseudo-gradient behind it), SGD on g_c / (sqrt(v_hat) + eps)."""
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.05
    x = torch.tensor([0.3, -0.2, 0.7], dtype=torch.float64, requires_grad=True)
    y = x.detach().clone()
    opt = pk.optim.MConFIG([x], "sgd", lr=lr, second_moment=second_moment)
    m, counts = torch.zeros(3, 3, dtype=torch.float64), [0, 0, 0]
    v, previous, t = torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64), 0
    for k in range(10):
        opt.step_losses(losses_of(x), pde_terms=("pde",))
        i = k % 3
        yy = y.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(list(losses_of(yy).values())[i], yy)
        m[i] = b1 * m[i] + (1 - b1) * g
        counts[i] += 1
        if min(counts) > 0:
            t += 1
            g_c = conflict_free_direction(m / torch.tensor([1 - b1**c for c in counts], dtype=torch.float64)[:, None])
            if second_moment == "direction":
                s = g_c
            else:
                moment = (1 - b1**t) * g_c
                s, previous = (moment - b1 * previous) / (1 - b1), moment
            v = b2 * v + (1 - b2) * s**2
            y = y - lr * g_c / ((v / (1 - b2**t)).sqrt() + eps)
        torch.testing.assert_close(x.detach(), y, rtol=0, atol=1e-13)


@pytest.mark.parametrize("make,match", [
    (lambda: pk.optim.MConFIG(betas=(0.9, 1.2)), "betas must be a pair"),
    (lambda: pk.optim.MConFIG(eps=float("nan")), "eps must be"),
    (lambda: pk.optim.MConFIG(second_moment="adam"), "second_moment must be one of"),
    (lambda: pk.optim.MConFIG(lr=-5e-4), "lr must be a positive"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
