"""UniversalODE: known part plus neural terms, trainable physical parameters, checks."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import pinnkit.dynamics as dyn

F64 = torch.float64


def decay(t, u, p):
    return -p["k"] * u


def test_known_part_alone_is_solved_exactly_and_its_parameter_gets_the_exact_gradient():
    ude = dyn.UniversalODE(decay, parameters={"k": 0.7})
    ode = dyn.NeuralODE(ude, rtol=1e-11, atol=1e-13)
    t = torch.linspace(0, 2, 5, dtype=F64)
    u0 = torch.tensor([1.5, -0.5], dtype=F64)
    u = ode(u0, t)
    torch.testing.assert_close(u, u0 * torch.exp(-0.7 * t)[:, None], rtol=1e-7, atol=0)
    u[-1].sum().backward()  # d/dk sum_i u0_i exp(-k T) = -T exp(-k T) sum_i u0_i
    assert float(ude.physical["k"].grad) == pytest.approx(-2.0 * math.exp(-1.4) * 1.0, rel=1e-6)
    assert ude.parameter_values == {"k": pytest.approx(0.7)}


def test_field_is_the_known_part_plus_every_term():
    torch.manual_seed(0)
    a, b = nn.Linear(2, 2).double(), nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    ude = dyn.UniversalODE(decay, {"a": a, "b": b}, parameters={"k": 0.3})
    u = torch.randn(7, 2, dtype=F64)
    t = torch.tensor(0.4, dtype=F64)
    torch.testing.assert_close(ude(t, u), -0.3 * u + a(u) + b(u))
    torch.testing.assert_close(ude.term("b", u), b(u))
    torch.testing.assert_close(ude.neural_rate(t, u), a(u) + b(u))
    torch.testing.assert_close(ude.known_rate(t, u), -0.3 * u)
    # a neural term alone, time-dependent: the net sees [t, u]
    c = nn.Linear(3, 2).double()
    ude_t = dyn.UniversalODE(terms=c, time_dependent=True)
    torch.testing.assert_close(ude_t(t, u), c(torch.cat([torch.full((7, 1), 0.4, dtype=F64), u], dim=1)))


def test_trainable_selection():
    ude = dyn.UniversalODE(lambda t, u, p: -p["k"] * u + p["c"], parameters={"k": 1.0, "c": 0.5},
                           trainable=["k"])
    assert ude.physical["k"].requires_grad and not ude.physical["c"].requires_grad
    ude(torch.tensor(0.0), torch.ones(3, 1)).sum().backward()
    assert ude.physical["k"].grad is not None and ude.physical["c"].grad is None
    frozen = dyn.UniversalODE(decay, parameters={"k": 1.0}, trainable=False)
    assert not any(p.requires_grad for p in frozen.parameters())
    assert float(frozen.state_dict()["physical.k"]) == 1.0  # constants are kept with the model's state


def test_bad_inputs_are_refused_clearly():
    with pytest.raises(ValueError, match="needs a known part, a neural term, or both"):
        dyn.UniversalODE()
    with pytest.raises(ValueError, match="known must be a callable"):
        dyn.UniversalODE(known=3)
    with pytest.raises(ValueError, match="terms must be an nn.Module or a mapping"):
        dyn.UniversalODE(decay, {"a": lambda u: u}, parameters={"k": 1.0})
    with pytest.raises(ValueError, match="term names must be identifiers"):
        dyn.UniversalODE(decay, {"a b": nn.Linear(1, 1)}, parameters={"k": 1.0})
    with pytest.raises(ValueError, match="parameter names must be identifiers"):
        dyn.UniversalODE(decay, parameters={"1k": 1.0})
    with pytest.raises(ValueError, match=r"parameters\['k'\] must be a finite number"):
        dyn.UniversalODE(decay, parameters={"k": "one"})
    with pytest.raises(ValueError, match=r"trainable names \['q'\] are not parameters"):
        dyn.UniversalODE(decay, parameters={"k": 1.0}, trainable=["q"])
    with pytest.raises(ValueError, match="known is None"):
        dyn.UniversalODE(terms=nn.Linear(1, 1), parameters={"k": 1.0})
    ude = dyn.UniversalODE(terms={"wrong": nn.Linear(2, 1)})
    with pytest.raises(ValueError, match="term 'wrong' must return the states' shape"):
        ude(torch.tensor(0.0), torch.ones(4, 2))
    with pytest.raises(ValueError, match="no term 'x'"):
        ude.term("x", torch.ones(4, 2))
    bad_known = dyn.UniversalODE(lambda t, u, p: u.sum(dim=1), parameters={})
    with pytest.raises(ValueError, match="known\\(t, u, p\\) must return"):
        bad_known(torch.tensor(0.0), torch.ones(4, 2))
