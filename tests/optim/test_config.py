"""ConFIG as an optimizer: the step is the base optimizer's along the conflict-free direction; base optimizers,
schedulers, copies and bad arguments."""

import copy

import pytest
import torch

import pinnkit as pk
from pinnkit.optim import conflict_free_direction


def quadratic_losses(x):
    a = torch.tensor([[1.0, 0.0, 0.5], [0.0, 2.0, 0.0], [1.0, 1.0, 1.0]], dtype=x.dtype)
    return {"pde": ((a @ x - 1) ** 2).sum(), "bc": ((x - 2) ** 2).sum(), "ic": (x[0] + x[1]) ** 2}


def per_loss(x):
    return torch.stack([torch.autograd.grad(v, x)[0] for v in quadratic_losses(x).values()])


@pytest.mark.parametrize("gradients", ["loop", "batched", "auto"])
def test_step_is_the_base_step_along_the_conflict_free_direction(gradients):
    x = torch.tensor([0.3, -0.2, 0.7], dtype=torch.float64, requires_grad=True)
    y = x.detach().clone().requires_grad_(True)
    opt = pk.optim.ConFIG([x], "adam", lr=0.05, betas=(0.8, 0.9), gradients=gradients)
    reference = torch.optim.Adam([y], lr=0.05, betas=(0.8, 0.9))
    for _ in range(6):
        opt.step_losses(quadratic_losses(x), pde_terms=("pde",))
        y.grad = conflict_free_direction(per_loss(y))
        reference.step()
        torch.testing.assert_close(x.detach(), y.detach(), rtol=0, atol=1e-14)
    torch.testing.assert_close(x.grad, y.grad, rtol=0, atol=1e-14)  # .grad holds the direction used


def test_scheduler_on_the_wrapper_drives_the_base():
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = pk.optim.ConFIG([x], "sgd", lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        opt.step_losses(quadratic_losses(x), pde_terms=())
        scheduler.step()
    assert opt.base.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.125


def test_deepcopy_is_an_independent_optimizer():
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = pk.optim.ConFIG([x], lr=0.1)
    opt.step_losses(quadratic_losses(x), pde_terms=())
    clone = copy.deepcopy(opt)
    assert type(clone) is pk.optim.ConFIG and clone.param_groups is clone.base.param_groups
    assert clone.groups == "each" and clone.state_dict()["base"]["state"][0]["step"] == 1


def test_a_spec_checks_now_and_builds_later():
    spec = pk.optim.ConFIG("sgd", lr=0.5, momentum=0.9)
    assert isinstance(spec, pk.optim.OptimizerSpec) and repr(spec) == "ConFIG('sgd', lr=0.5, momentum=0.9)"
    x = torch.zeros(2, requires_grad=True)
    opt = spec([x])
    assert isinstance(opt, pk.optim.ConFIG) and isinstance(opt.base, torch.optim.SGD)
    assert opt.param_groups[0]["momentum"] == 0.9
    assert isinstance(pk.optim.ConFIG([x], base=torch.optim.RMSprop, lr=1e-3).base, torch.optim.RMSprop)


@pytest.mark.parametrize("make,match", [
    (lambda: pk.optim.ConFIG("adam", lr=0), "lr must be a positive"),
    (lambda: pk.optim.ConFIG("lbfgs"), "base must be one of"),
    (lambda: pk.optim.ConFIG(base=torch.optim.LBFGS), "first-order torch optimizer"),
    (lambda: pk.optim.ConFIG(base=pk.optim.MultiAdam), "first-order torch optimizer"),
    (lambda: pk.optim.ConFIG(base=3), "base must be one of"),
    (lambda: pk.optim.ConFIG("adam", lr=1e-3, momentum=0.9), "base options .* do not fit"),
    (lambda: pk.optim.ConFIG("adam", betas=(1.5, 0.9)), "beta"),
    (lambda: pk.optim.ConFIG(groups=["pde", ["pde"]]), "appear more than once"),
    (lambda: pk.optim.ConFIG(gradients="fast"), "gradients must be one of"),
    (lambda: pk.optim.ConFIG([torch.zeros(2, requires_grad=True), torch.zeros(2, dtype=torch.float64,
                                                                               requires_grad=True)]),
     "params: ConFIG combines all parameters"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
