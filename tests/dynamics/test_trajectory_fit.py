"""TrajectoryFit: the data and continuity losses by hand, missing values, single and multiple shooting
recovering a known rate, several trajectories, checkpoints through the Trainer's callbacks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

import pinnkit as pk
import pinnkit.dynamics as dyn

F64 = torch.float64
K = 1.3


def decay_model(k: float, **kwargs) -> dyn.NeuralODE:
    ude = dyn.UniversalODE(lambda t, u, p: -p["k"] * u, parameters={"k": k}).double()
    return dyn.NeuralODE(ude, rtol=1e-8, atol=1e-10, **kwargs)


def decay_data(t: torch.Tensor, u0: torch.Tensor) -> torch.Tensor:
    return u0 * torch.exp(-K * t).reshape(-1, *([1] * u0.ndim))


def test_data_loss_is_the_mean_square_over_observed_entries():
    t = torch.linspace(0, 2, 9, dtype=F64)
    u0 = torch.tensor([1.0, 2.0], dtype=F64)
    y = decay_data(t, u0) + 0.01 * torch.randn(9, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    y[3, 0] = y[6, 1] = y[7, 0] = float("nan")
    fit = dyn.TrajectoryFit(decay_model(0.8), t, y, u0=u0)
    pred = u0 * torch.exp(-0.8 * t)[:, None]
    seen = ~torch.isnan(y)
    expected = ((pred - y)[seen] ** 2).mean()
    assert float(fit.losses()["data"].detach()) == pytest.approx(float(expected), rel=1e-6)
    # scale="std" divides each component by the standard deviation of its observations
    fit_std = dyn.TrajectoryFit(decay_model(0.8), t, y, u0=u0, scale="std")
    s = torch.tensor([np.nanstd(y[:, k].numpy()) for k in range(2)], dtype=F64)
    expected = (((pred - y) / s)[seen] ** 2).mean()
    assert float(fit_std.losses()["data"].detach()) == pytest.approx(float(expected), rel=1e-6)


@pytest.mark.parametrize("shooting", [None, 3])
def test_fit_recovers_the_rate_from_clean_data_with_missing_values(shooting):
    t = torch.linspace(0, 3, 13, dtype=F64)
    u0 = torch.tensor([[1.0, 2.0], [0.5, -1.0]], dtype=F64)  # two trajectories
    y = decay_data(t, u0)
    y[4, 0, 1] = y[5, 1, 0] = y[9, 1, 1] = float("nan")
    fit = dyn.TrajectoryFit(decay_model(0.5), t, y, shooting=shooting)
    fit.fit(15, optimizer="lbfgs", progress=False)
    k = fit.module.field.parameter_values["k"]
    assert k == pytest.approx(K, rel=1e-5)
    assert fit.history[-1]["k"] == pytest.approx(k) and fit.history[-1]["loss"] < 1e-10
    if shooting:
        assert set(fit.losses()) == {"data", "continuity"} and fit.history[-1]["continuity"] < 1e-10
    assert fit.predict().shape == (13, 2, 2)
    torch.testing.assert_close(fit.predict(), decay_data(t, u0), rtol=1e-4, atol=1e-6)


def test_shooting_segments_and_continuity_loss_by_hand():
    t = torch.linspace(0, 3, 7, dtype=F64)
    u0 = torch.tensor([1.0], dtype=F64)
    y = decay_data(t, u0)
    fit = dyn.TrajectoryFit(decay_model(0.9), t, y, shooting=2, continuity_weight=2.0)
    assert fit.bounds == [0, 3, 6]
    s1 = fit.extra["shooting_1"]
    torch.testing.assert_close(s1.detach(), y[3:4])  # initialised from the data at the joint
    end_of_first = u0 * math.exp(-0.9 * 1.5)
    second = s1.detach() * torch.exp(-0.9 * (t[3:] - t[3]))[:, None]
    pred = torch.cat([u0 * torch.exp(-0.9 * t[:3])[:, None], second])
    terms = fit.losses()
    expected = 2.0 * float((end_of_first - s1.detach()) ** 2)
    assert float(terms["continuity"].detach()) == pytest.approx(expected, rel=1e-5)
    assert float(terms["data"].detach()) == pytest.approx(float(((pred - y) ** 2).mean()), rel=1e-5)


def test_learn_u0_and_neural_term_fit_reduce_the_loss():
    torch.manual_seed(0)
    t = torch.linspace(0, 1, 8, dtype=F64)
    y = decay_data(t, torch.tensor([1.0, -0.5], dtype=F64))
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    model = dyn.NeuralODE(dyn.Autonomous(net), method="rk4", step_size=0.05)
    fit = dyn.TrajectoryFit(model, t, y, u0=torch.tensor([0.8, -0.3], dtype=F64), learn_u0=True)
    before = float(fit.loss().detach())
    fit.fit(60, lr=1e-2, progress=False, log_every=20)
    assert float(fit.loss().detach()) < 0.2 * before
    assert fit.u0.requires_grad and not torch.allclose(fit.u0.detach(), torch.tensor([[0.8, -0.3]], dtype=F64))
    assert [r["step"] for r in fit.history] == [20, 40, 60]


def test_checkpoint_callback_and_state_round_trip(tmp_path):
    t = torch.linspace(0, 2, 6, dtype=F64)
    y = decay_data(t, torch.tensor([1.0], dtype=F64))
    fit = dyn.TrajectoryFit(decay_model(0.5), t, y, shooting=2)
    stopper = pk.EarlyStopping(patience=2)
    fit.fit(20, lr=0.05, progress=False, log_every=10, callbacks=[pk.Checkpoint(tmp_path / "fit.pt", every=10),
                                                                  stopper])
    again = dyn.TrajectoryFit(decay_model(0.5), t, y, shooting=2)
    again.load_state(tmp_path / "fit.pt")
    assert again.step == fit.step == 20 and len(again.history) == len(fit.history)
    assert again.module.field.parameter_values == fit.module.field.parameter_values
    torch.testing.assert_close(again.extra["shooting_1"], fit.extra["shooting_1"].detach())
    other = dyn.SDETransitionFit(dyn.NeuralSDE(dyn.Autonomous(nn.Linear(1, 1).double()),
                                               lambda s, u: torch.ones_like(u)),
                                 t, y[:, :, None].expand(6, 1, 1).clone())
    with pytest.raises(ValueError, match="holds a 'trajectory_fit' state"):
        other.load_state(tmp_path / "fit.pt")


def test_bad_inputs_are_refused_clearly():
    t = torch.linspace(0, 1, 5, dtype=F64)
    y = torch.ones(5, 2, dtype=F64)
    model = decay_model(1.0)
    with pytest.raises(ValueError, match="model must be a pinnkit.dynamics.NeuralODE"):
        dyn.TrajectoryFit(nn.Linear(2, 2), t, y)
    with pytest.raises(ValueError, match="strictly increasing"):
        dyn.TrajectoryFit(model, t.flip(0), y)
    with pytest.raises(ValueError, match=r"observations must be a tensor \(T, d\) or \(T, B, d\)"):
        dyn.TrajectoryFit(model, t, y[:4])
    with pytest.raises(ValueError, match="same dtype"):
        dyn.TrajectoryFit(model, t, y.float())
    with pytest.raises(ValueError, match="no observed"):
        dyn.TrajectoryFit(model, t, torch.full((5, 2), float("nan"), dtype=F64))
    y_missing = y.clone()
    y_missing[0, 1] = float("nan")
    with pytest.raises(ValueError, match="pass u0 explicitly"):
        dyn.TrajectoryFit(model, t, y_missing)
    with pytest.raises(ValueError, match=r"u0 must have shape \(2,\)"):
        dyn.TrajectoryFit(model, t, y, u0=torch.ones(3, dtype=F64))
    with pytest.raises(ValueError, match="shooting=5 segments need at least 6"):
        dyn.TrajectoryFit(model, t, y, shooting=5)
    with pytest.raises(ValueError, match="shooting must be a positive integer"):
        dyn.TrajectoryFit(model, t, y, shooting=0)
    with pytest.raises(ValueError, match="continuity_weight must be a non-negative"):
        dyn.TrajectoryFit(model, t, y, continuity_weight=-1.0)
    with pytest.raises(ValueError, match="scale must be"):
        dyn.TrajectoryFit(model, t, y, scale="max")
    with pytest.raises(ValueError, match="scale='std' needs observations that vary"):
        dyn.TrajectoryFit(model, t, y, scale="std")
    fit = dyn.TrajectoryFit(model, t, y)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        fit.fit(1, optimizer="newton", progress=False)
    with pytest.raises(ValueError, match="steps must be a non-negative integer"):
        fit.fit(-1, progress=False)
    with pytest.raises(ValueError, match="starting at the initial time"):
        fit.predict(t[1:])
    with pytest.raises(ValueError, match="nothing to train"):  # at construction, not at the first step
        dyn.TrajectoryFit(dyn.NeuralODE(dyn.UniversalODE(lambda s, u, p: -u, parameters={})), t, y)
