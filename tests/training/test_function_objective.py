"""FunctionObjective: a loss written as a function trains through the one loop, with its random stream restored
after a non-finite step and held in checkpoints."""

import math

import pytest
import torch

import pinnkit as pk
from pinnkit.training import FunctionObjective, TrainingLoop


def regression(generator, nan_at=None):
    """Fit u(x) = sin(3x) on points drawn afresh from ``generator`` each step (a NaN loss at step ``nan_at``)."""
    torch.manual_seed(0)
    net = pk.nets.MLP(1, 1, width=16, depth=2).double()
    drawn = {}

    def loss(step):
        x = torch.rand(64, 1, generator=generator, dtype=torch.float64)
        drawn.setdefault(step, []).append(x)
        value = (net(x)[:, 0] - torch.sin(3 * x[:, 0])).pow(2).mean()
        return {"fit": value * math.nan if step == nan_at else value}

    test = torch.linspace(0, 1, 101, dtype=torch.float64)[:, None]

    def error():
        return {"l2_relative_error": torch.linalg.vector_norm(net(test)[:, 0] - torch.sin(3 * test[:, 0]))
                / torch.linalg.vector_norm(torch.sin(3 * test[:, 0]))}

    return net, FunctionObjective(net, loss, terms=("fit",), record=error, generator=generator), drawn


def test_it_trains_and_records_its_scalars():
    _, objective, _ = regression(torch.Generator().manual_seed(1))
    loop = TrainingLoop(objective, optimizer="adam", lr=1e-2)
    history = loop.fit(300, log_every=100, progress=False)
    assert [h["step"] for h in history] == [100, 200, 300]
    assert {"fit", "l2_relative_error", "loss", "lr", "time"} <= set(history[-1])
    assert history[-1]["l2_relative_error"] < 0.1 < history[0]["l2_relative_error"] * 10
    assert objective.pde_terms == ()


def test_a_nan_restores_the_random_stream_so_the_retry_sees_the_same_points():
    generator = torch.Generator().manual_seed(2)
    _, objective, drawn = regression(generator, nan_at=7)
    loop = TrainingLoop(objective, optimizer="adam", lr=1e-2)
    with pytest.raises(pk.NonFiniteLossError, match="fit=nan"):
        loop.fit(20, progress=False)
    assert loop.step == 6  # the last state whose loss was finite: before step 6's update
    copy = torch.Generator()
    copy.set_state(generator.get_state())
    again = torch.rand(64, 1, generator=copy, dtype=torch.float64)
    assert torch.equal(again, drawn[6][0])  # and the stream stands where step 6 drew its points
    loop.fit(1, progress=False)  # the retry of step 6 sees those points again
    assert torch.equal(drawn[6][-1], drawn[6][0])


def test_a_history_record_and_a_held_objective_draw_from_one_state():
    generator = torch.Generator().manual_seed(4)
    _, objective, drawn = regression(generator)
    objective.evaluate_for_log(0)
    objective.evaluate(0)
    assert torch.equal(drawn[0][0], drawn[0][1])
    objective.hold(True)
    objective.evaluate(1)
    objective.evaluate(1)
    objective.hold(False)
    objective.evaluate(2)
    assert torch.equal(drawn[1][0], drawn[1][1]) and not torch.equal(drawn[2][0], drawn[1][0])
    loop = TrainingLoop(objective, optimizer="lbfgs")
    loop.fit(3, progress=False)
    assert math.isfinite(loop.history[-1]["loss"])


def test_checkpoints_hold_the_weights_and_the_random_stream(tmp_path):
    net, objective, _ = regression(torch.Generator().manual_seed(3))
    loop = TrainingLoop(objective, optimizer="adam", lr=1e-2)
    loop.fit(10, progress=False)
    path = tmp_path / "state.pt"
    loop.save(path)
    loop.fit(5, progress=False)
    other_net, other, _ = regression(torch.Generator().manual_seed(99))
    resumed = TrainingLoop(other, optimizer="adam", lr=1e-2)
    resumed.load_state(path)
    resumed.fit(5, progress=False)
    for a, b in zip(net.parameters(), other_net.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    assert resumed.step == loop.step == 15


def test_bad_arguments_and_bad_losses_are_refused_by_name():
    net = torch.nn.Linear(1, 1)
    good = lambda step: {"pde": net.weight.sum()}  # noqa: E731
    with pytest.raises(ValueError, match="module must be a torch.nn.Module"):
        FunctionObjective(lambda x: x, good)
    with pytest.raises(ValueError, match="loss must be a function"):
        FunctionObjective(net, 3.0)
    with pytest.raises(ValueError, match="generator must be a torch.Generator"):
        FunctionObjective(net, good, generator=0)
    with pytest.raises(ValueError, match="terms must be a sequence of non-empty names"):
        FunctionObjective(net, good, terms="pde")
    with pytest.raises(ValueError, match="history's own names"):
        FunctionObjective(net, good, terms=("loss",))
    with pytest.raises(ValueError, match="pde_terms .* are not among the terms"):
        FunctionObjective(net, good, pde_terms=("bc",))
    assert FunctionObjective(net, good).pde_terms == ("pde",)
    with pytest.raises(ValueError, match=r"exactly the terms \['pde'\]; got \['bc'\]"):
        FunctionObjective(net, lambda step: {"bc": net.weight.sum()}).evaluate(0)
    with pytest.raises(ValueError, match="loss term 'pde' must be a scalar tensor; got \\(2, 1\\)"):
        FunctionObjective(net, lambda step: {"pde": net.weight.expand(2, 1)}).evaluate(0)
    with pytest.raises(ValueError, match="record\\(\\) must not use the names \\['pde'\\]"):
        FunctionObjective(net, good, record=lambda: {"pde": 1.0}).record()
