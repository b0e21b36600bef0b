"""Activations by name, module or class; names back from modules."""

import pytest
import torch
from torch import nn

from pinnkit.nets import ACTIVATIONS, Sine, activation, activation_name


@pytest.mark.parametrize("name,cls", [
    ("tanh", nn.Tanh), ("sin", Sine), ("relu", nn.ReLU), ("gelu", nn.GELU), ("silu", nn.SiLU),
    ("swish", nn.SiLU), ("softplus", nn.Softplus), ("sigmoid", nn.Sigmoid), ("elu", nn.ELU),
    ("TANH", nn.Tanh), (" Swish ", nn.SiLU), ("Sin", Sine),
])
def test_by_name(name, cls):
    a = activation(name)
    assert type(a) is cls
    assert activation(name) is not a  # a new module each time


def test_sine():
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)
    assert torch.equal(Sine()(x), torch.sin(x))


def test_module_instance_returned_as_is_and_class_instantiated():
    m = nn.Softplus(beta=2.0)
    assert activation(m) is m
    assert type(activation(nn.Tanh)) is nn.Tanh
    assert type(activation(Sine)) is Sine


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"activation must be one of \['tanh', 'sin', .*'swish'\].*got 'tanhh'"):
        activation("tanhh")


@pytest.mark.parametrize("spec,match", [
    (3, "activation must be a name"),
    (torch.tanh, "activation must be a name"),
    (nn.Linear, "activation class Linear cannot be built without arguments"),
])
def test_bad_specs(spec, match):
    with pytest.raises(ValueError, match=match):
        activation(spec)


def test_activation_name():
    for name in ACTIVATIONS:
        assert activation_name(activation(name)) == name
    assert activation_name(activation("swish")) == "silu"
    assert activation_name(nn.Softplus(beta=2.0)) is None  # not the default arguments
    assert activation_name(nn.ReLU(inplace=True)) is None
    assert activation_name(nn.GELU(approximate="tanh")) is None
    assert activation_name(nn.PReLU()) is None

    class MyTanh(nn.Tanh):
        pass

    assert activation_name(MyTanh()) is None  # a subclass may behave differently
