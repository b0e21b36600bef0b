"""Per-loss gradients: batched and loop agree with each other and with separate backward passes."""

import warnings

import pytest
import torch

import pinnkit as pk
from pinnkit.optim import per_loss_gradients
from pinnkit.optim.gradients import flatten, unflatten

from .helpers import trainer


@pytest.mark.parametrize("backend", ["autograd", "zcs"])
def test_batched_and_loop_agree_on_the_trainers_losses(backend):
    t = trainer(backend=backend, dtype=torch.float64)
    params = t.trainable_parameters()
    _, terms, _ = t.losses()
    losses = list(terms.values())
    separate = [torch.autograd.grad(v, params, retain_graph=True) for v in losses]
    batched = per_loss_gradients(losses, params, "batched", retain_graph=True)
    loop = per_loss_gradients(losses, params, "loop")
    for k, p in enumerate(params):
        expected = torch.stack([s[k] for s in separate])
        assert batched[k].shape == loop[k].shape == (len(losses), *p.shape)
        torch.testing.assert_close(loop[k], expected, rtol=0, atol=0)
        torch.testing.assert_close(batched[k], expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("method", ["batched", "loop"])
def test_unused_parameters_and_constant_losses_give_zeros(method):
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0], requires_grad=True)
    losses = [(a**2).sum(), torch.tensor(5.0), (a * b).sum()]
    ga, gb = per_loss_gradients(losses, [a, b], method)
    torch.testing.assert_close(ga, torch.tensor([[2.0, 4.0], [0.0, 0.0], [3.0, 3.0]]))
    torch.testing.assert_close(gb, torch.tensor([[0.0], [0.0], [3.0]]))
    none = per_loss_gradients([torch.tensor(1.0)], [a, b], method)
    assert [g.shape for g in none] == [(1, 2), (1, 1)] and all(not g.any() for g in none)


def test_flatten_and_unflatten():
    params = [torch.zeros(2, 3), torch.zeros(4)]
    grads = [torch.arange(12.0).reshape(2, 2, 3), torch.arange(8.0).reshape(2, 4)]
    flat = flatten(grads)
    assert flat.shape == (2, 10)
    back = unflatten(flat[1], params)
    assert torch.equal(back[0], grads[0][1]) and torch.equal(back[1], grads[1][1])
    with pytest.raises(ValueError, match="parameters have 10"):
        unflatten(torch.zeros(11), params)


def test_bad_arguments():
    a = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="method must be one of"):
        per_loss_gradients([a.sum()], [a], "vmap")
    with pytest.raises(ValueError, match=r"losses\[1\] must be a scalar"):
        per_loss_gradients([a.sum(), a * 2], [a])
    with pytest.raises(ValueError, match="must not be empty"):
        per_loss_gradients([], [a])


class _NoVmap(torch.autograd.Function):
    """Doubles its input; its backward reads a value on the host (``.item()``), which vmap cannot batch."""

    @staticmethod
    def forward(x):
        return 2 * x

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, g):
        assert g.abs().sum().item() >= 0
        return 2 * g


def test_auto_falls_back_to_the_loop_when_batching_fails(monkeypatch):
    x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)

    def losses():
        y = _NoVmap.apply(x)
        return {"a": (y**2).sum(), "b": (y - 1).sum()}

    with pytest.raises(RuntimeError):
        per_loss_gradients(list(losses().values()), [x], "batched")
    opt = pk.optim.ConFIG([x], "sgd", lr=0.1)
    monkeypatch.setattr(opt, "_auto_prefers_batched", lambda params: True)  # as on an accelerator
    with pytest.warns(RuntimeWarning, match="batched per-loss gradients failed"):
        opt.step_losses(losses(), pde_terms=())
    assert opt._batched_failed
    y = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    reference = pk.optim.ConFIG([y], "sgd", lr=0.1, gradients="loop")
    reference.step_losses({"a": ((2 * y) ** 2).sum(), "b": (2 * y - 1).sum()}, pde_terms=())
    torch.testing.assert_close(x.detach(), y.detach(), rtol=0, atol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step_losses(losses(), pde_terms=())  # no second warning: the loop from now on
