"""MultiAdam: Adam with one group, per-group scale invariance, the first step by hand, bad arguments."""

import functools

import pytest
import torch

import pinnkit as pk

from .helpers import burgers_problem, params, trainer


def test_one_group_is_adam_in_float64():
    multi = trainer(pk.optim.MultiAdam(lr=1e-2, groups="all"), dtype=torch.float64)
    adam = trainer(functools.partial(torch.optim.Adam, lr=1e-2, betas=(0.99, 0.99), eps=1e-8), dtype=torch.float64)
    multi.fit(15, progress=False)
    adam.fit(15, progress=False)
    for a, b in zip(params(multi), params(adam), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("scaled", [["pde"], ["dirichlet_u_boundary", "initial_u"]])
def test_scaling_one_groups_loss_leaves_the_trajectory_unchanged(scaled):
    plain = trainer("multiadam", dtype=torch.float64)
    scaled_run = trainer("multiadam", dtype=torch.float64, loss_weights={k: 1e4 for k in scaled})
    plain.fit(15, progress=False)
    scaled_run.fit(15, progress=False)
    moved = max(float((a - b).abs().max()) for a, b in zip(params(plain), params(trainer()), strict=True))
    assert moved > 1e-3  # the runs did move
    for a, b in zip(params(plain), params(scaled_run), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_first_step_by_hand():
    """At t = 1 the bias-corrected moments are g_i and g_i^2, so with eps = 0 each group moves every entry by
    lr * sign(g_i) / n."""
    x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
    opt = pk.optim.MultiAdam([x], lr=0.1, eps=0.0)
    losses = {"pde": (x**2).sum(), "bc": 1e-6 * ((x - 3.0) ** 2).sum()}  # gradients 2x and 2e-6 (x - 3)
    opt.step_losses(losses, pde_terms=("pde",))
    signs = torch.tensor([[1, -1, 1], [-1, -1, -1]], dtype=torch.float64)  # of 2x and of 2e-6 (x - 3)
    expected = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) - 0.1 * signs.sum(0) / 2
    torch.testing.assert_close(x.detach(), expected, rtol=0, atol=1e-15)
    state = opt.state[x]
    assert state["step"] == 1 and state["exp_avg"].shape == (2, 3) and state["exp_avg_sq"].shape == (2, 3)


def test_the_compiled_update_is_the_eager_update():
    """With a compiled cache (what a loop with a compiled objective sets) the update runs as one graph, a 0-dim
    parameter included, and lands where the eager update does; new step counts do not recompile it."""
    from pinnkit.derivatives.protocol import Compiled

    def run(compiled):
        x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64, requires_grad=True)
        a = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
        opt = pk.optim.MultiAdam([{"params": [x]}, {"params": [a], "lr": 0.05}], lr=0.1, weights=[0.7, 0.3])
        opt.compiled = compiled
        for _ in range(12):
            opt.step_losses({"pde": (x**2).sum() + torch.sin(a), "bc": 1e-3 * ((x - a) ** 2).sum()},
                            pde_terms=("pde",))
        return x.detach(), a.detach(), opt.state[a]["exp_avg"]

    cache = Compiled()
    eager, compiled = run(None), run(cache)
    assert cache.compilations == 1
    assert not torch.equal(compiled[1], torch.tensor(0.3, dtype=torch.float64))  # the 0-dim one moved
    for c, e in zip(compiled, eager, strict=True):
        torch.testing.assert_close(c, e, rtol=0, atol=1e-14)


def test_weights_and_explicit_groups():
    x = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = pk.optim.MultiAdam([x], lr=0.1, eps=0.0, groups=[["a", "b"], "c"], weights=[1.0, 0.0])
    opt.step_losses({"a": x[0] ** 2, "b": x[1] ** 2, "c": -(x**2).sum()}, pde_terms=())
    torch.testing.assert_close(x.detach(), torch.tensor([0.9, -1.9], dtype=torch.float64), rtol=0, atol=1e-15)


@pytest.mark.parametrize("make,match", [
    (lambda: pk.optim.MultiAdam(lr=0), "lr must be a positive"),
    (lambda: pk.optim.MultiAdam(lr=-1e-3), "lr must be a positive"),
    (lambda: pk.optim.MultiAdam(betas=(0.9, 1.0)), r"betas must be a pair"),
    (lambda: pk.optim.MultiAdam(betas=(-0.1, 0.9)), r"betas must be a pair"),
    (lambda: pk.optim.MultiAdam(betas=0.9), r"betas must be a pair"),
    (lambda: pk.optim.MultiAdam(eps=-1.0), "eps must be a non-negative"),
    (lambda: pk.optim.MultiAdam(groups="pde"), "groups must be one of"),
    (lambda: pk.optim.MultiAdam(groups=[["pde"], ["pde", "bc"]]), r"groups: terms \['pde'\] appear more than once"),
    (lambda: pk.optim.MultiAdam(groups=[[]]), "groups must be one of"),
    (lambda: pk.optim.MultiAdam(weights=[1.0, -1.0]), "weights must be finite non-negative"),
    (lambda: pk.optim.MultiAdam(groups=[["a"], ["b"]], weights=[1.0]), "weights has 1 entries for 2 groups"),
    (lambda: pk.optim.MultiAdam(gradients="vmap"), "gradients must be one of"),
    (lambda: trainer(pk.optim.MultiAdam(groups=[["pde"], ["bc"]])), "groups: unknown term 'bc'"),
    (lambda: trainer(pk.optim.MultiAdam(groups=[["pde"], ["initial_u"]])),
     "groups: term 'dirichlet_u_boundary' is in no group"),
    (lambda: trainer(pk.optim.MultiAdam(weights=[1.0, 1.0, 1.0])), "weights has 3 entries for 2 loss groups"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_step_needs_the_named_losses():
    x = torch.ones(2, requires_grad=True)
    opt = pk.optim.MultiAdam([x])
    with pytest.raises(ValueError, match="needs the named losses"):
        opt.step()
    with pytest.raises(ValueError, match="pde_terms must name the PDE residual terms"):
        opt.step(lambda: {"pde": x.sum()})
    with pytest.raises(ValueError, match="loss 'pde' must be a scalar"):
        opt.step_losses({"pde": x * 2}, ("pde",))
    opt.step_losses({"pde": x.sum(), "bc": x.sum()}, ("pde",))
    with pytest.raises(ValueError, match="loss groups changed"):
        opt.step_losses({"pde": x.sum()}, ("pde",))
    assert burgers_problem().pde_terms == ("pde",)


def test_spec_or_optimizer_by_whether_params_are_given():
    import copy

    x = torch.zeros(2, requires_grad=True)
    assert isinstance(pk.optim.MultiAdam(), pk.optim.OptimizerSpec)
    assert isinstance(pk.optim.MultiAdam(lr=1e-2), pk.optim.OptimizerSpec)
    for opt in (pk.optim.MultiAdam([x]), pk.optim.MultiAdam(params=[x], lr=1e-2), pk.optim.MultiAdam()([x])):
        assert isinstance(opt, pk.optim.MultiAdam) and isinstance(opt, torch.optim.Optimizer)
    opt = pk.optim.MultiAdam([x], groups="each")
    opt.step_losses({"a": (x**2).sum(), "b": x.sum()}, ())
    clone = copy.deepcopy(opt)
    assert type(clone) is pk.optim.MultiAdam and clone.groups == "each" and clone._labels == ["a", "b"]
