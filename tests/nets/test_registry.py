"""Configs and specs: JSON round trips rebuild networks with bitwise-identical outputs."""

import json

import pytest
import torch
from torch import nn

import pinnkit.nets as pk_nets
from pinnkit.nets import (
    MLP,
    Expression,
    FourierFeatures,
    HardConstraint,
    InputScaling,
    ModifiedMLP,
    PeriodicEmbedding,
    build_net,
    net_spec,
    register_net,
)

NETS = {
    "mlp": lambda: MLP(2, 3, width=16, depth=3),
    "mlp-all": lambda: MLP(2, 1, width=8, depth=2, activation="swish", init="glorot_uniform",
                           input_bounds=torch.tensor([[-0.1, 0.0], [0.3, 1.7]], dtype=torch.float64),
                           embedding=FourierFeatures(2, 6, scale=3.0, seed=5)),
    "mlp-periodic": lambda: MLP(3, 2, width=8, depth=2, activation=nn.Softplus(),
                                embedding=PeriodicEmbedding(3, {0: 2.0, 2: 0.7})),
    "mlp-default-init": lambda: MLP(2, 1, width=8, depth=1, init="default", activation=nn.GELU),
    "modified": lambda: ModifiedMLP(2, 2, width=8, depth=3, activation="sin", input_bounds=[[0, 0], [1, 2]]),
    "modified-ff": lambda: ModifiedMLP(2, 1, width=8, depth=2, embedding=FourierFeatures(2, 4)),
    "fourier": lambda: FourierFeatures(3, 7, scale=2.5),
    "periodic": lambda: PeriodicEmbedding(2, {1: 0.1}),
    "scaling": lambda: InputScaling([[0.1, -3.0], [0.2, 3.0]]),
    "expression": lambda: Expression("t*(1 - x**2) + exp(-x)", ("x", "t")),
    "hard-constraint": lambda: HardConstraint(MLP(2, 1, width=8, depth=2), Expression("-sin(pi*x)", ("x", "t")),
                                              Expression("t*(1 - x**2)", ("x", "t"))),
    "hard-constraint-number": lambda: HardConstraint(MLP(2, 2, width=8, depth=1), 0.5,
                                                     Expression("x*(1 - x)*y*(1 - y)", ("x", "y"))),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", list(NETS))
def test_round_trip_is_bitwise_identical(name, dtype):
    torch.manual_seed(0)
    net = NETS[name]().to(dtype) if dtype == torch.float32 else NETS[name]().double()
    spec = json.loads(json.dumps(net_spec(net)))  # through JSON, as in a checkpoint
    assert spec["class"] == type(net).__name__
    torch.manual_seed(123)  # fresh, different weights
    rebuilt = build_net(spec["class"], spec["config"])
    if dtype == torch.float64:
        rebuilt = rebuilt.double()
    rebuilt.load_state_dict(net.state_dict())
    assert net_spec(rebuilt) == spec
    x = torch.rand(32, net.inputs, dtype=dtype) * 2 - 1
    assert torch.equal(rebuilt(x), net(x))


def test_config_contents():
    net = NETS["mlp-all"]()
    cfg = net.config
    assert cfg == {
        "inputs": 2, "outputs": 1, "width": 8, "depth": 2, "activation": "silu",
        "input_bounds": [[-0.1, 0.0], [0.3, 1.7]],  # float64 values kept exactly
        "embedding": {"class": "FourierFeatures", "config": {"inputs": 2, "features": 6, "scale": 3.0, "seed": 5}},
        "init": "glorot_uniform",
    }
    assert MLP(2, 1, **{k: v for k, v in MLP(2, 1).config.items() if k not in ("inputs", "outputs")}).config \
        == MLP(2, 1).config
    assert PeriodicEmbedding(3, {2: 1.0, 0: 2.0}).config == {"inputs": 3, "periods": [[0, 2.0], [2, 1.0]]}
    # a seeded FourierFeatures is rebuilt identically even without its state dict
    ff = FourierFeatures(2, 4, seed=9)
    assert torch.equal(build_net("FourierFeatures", ff.config).frequencies, ff.frequencies)


def test_unnamed_activation_fails_only_when_asked():
    net = MLP(2, 1, width=4, depth=1, activation=nn.Softplus(beta=2.0))
    assert net(torch.rand(3, 2)).shape == (3, 1)  # the net itself works
    with pytest.raises(ValueError, match=r"MLP.config: the activation Softplus\(beta=2.0.*has no name"):
        _ = net.config
    with pytest.raises(ValueError, match="has no name"):
        net_spec(ModifiedMLP(2, 1, activation=nn.PReLU()))


def test_errors():
    with pytest.raises(ValueError, match=r"class_name must be one of \[.*'FourierFeatures', .*got 'Net'"):
        build_net("Net", {})
    with pytest.raises(ValueError, match=r"config has unknown keys \['size'\] for MLP"):
        build_net("MLP", {"inputs": 2, "outputs": 1, "size": 3})
    with pytest.raises(ValueError, match="config must be a dict"):
        build_net("MLP", [2, 1])
    with pytest.raises(ValueError, match=r"config\['embedding'\] must be None or a nested spec"):
        build_net("MLP", {"inputs": 2, "outputs": 1, "embedding": {"features": 3}})
    with pytest.raises(ValueError, match="width must be a positive integer"):
        build_net("MLP", {"inputs": 2, "outputs": 1, "width": 0})
    net = MLP(2, 1, width=4, depth=1)
    with pytest.raises(ValueError, match=r"distance is a Python callable.*Expression.*net= to pinnkit.load"):
        net_spec(HardConstraint(net, 0.0, lambda x: x[:, 0]))
    with pytest.raises(ValueError, match="net must be one of pinnkit's nets"):
        net_spec(nn.Sequential(net))

    class MyMLP(MLP):
        pass

    with pytest.raises(ValueError, match="got .*MyMLP"):
        net_spec(MyMLP(2, 1))


class Identity2(nn.Module):
    """A user embedding: usable in an MLP, but not rebuildable from a config."""

    outputs = 2

    def forward(self, x):
        return x


def test_user_embedding_has_no_spec():
    net = MLP(2, 1, width=4, depth=1, embedding=Identity2())
    assert net(torch.rand(3, 2)).shape == (3, 1)
    with pytest.raises(ValueError, match="net must be one of pinnkit's nets .*got .*Identity2"):
        _ = net.config


def test_registry_is_read_only_and_lists_pinnkit_nets():
    assert {"MLP", "ModifiedMLP", "FourierFeatures", "PeriodicEmbedding", "InputScaling", "TimeWindows", "LocalTime",
            "DeepONet", "Expression", "HardConstraint"} <= set(pk_nets.NETS)
    with pytest.raises(TypeError):
        pk_nets.NETS["MLP"] = nn.Linear  # type: ignore[index]


def test_a_taken_name_is_refused():
    class MLP(nn.Module):  # same class name as pinnkit's MLP, another class
        config = {}

    with pytest.raises(ValueError, match=r"the name 'MLP' is taken by pinnkit\.nets\.mlp\.MLP; register .*MLP under "
                                         r"another name="):
        register_net(MLP)
    with pytest.raises(ValueError, match="the name 'Expression' is taken"):
        register_net(name="Expression")(MLP)
    assert pk_nets.NETS["MLP"] is pk_nets.MLP and pk_nets.NETS["Expression"] is Expression
    with pytest.raises(ValueError, match="registers torch.nn.Module subclasses; got <class 'int'>"):
        register_net(int)
    with pytest.raises(ValueError, match="Identity2 must have a `config` property"):
        register_net(name="identity-2")(Identity2)
    with pytest.raises(ValueError, match=r"nested must be a sequence of config keys \(strings\); got 'net'"):
        register_net(nested="net")


@register_net(name="tests.Scaled", nested=("net",))
class Scaled(nn.Module):
    """A user network wrapping a nested net: ``factor * net(x)``."""

    def __init__(self, net: nn.Module, factor: float = 2.0):
        super().__init__()
        self.net, self.factor = net, float(factor)
        self.inputs = net.inputs

    def forward(self, x):
        return self.factor * self.net(x)

    @property
    def config(self) -> dict:
        return {"net": net_spec(self.net), "factor": self.factor}


def test_a_registered_user_net_round_trips():
    assert pk_nets.NETS["tests.Scaled"] is Scaled
    assert register_net(name="tests.Scaled", nested=("net",))(Scaled) is Scaled  # the same class again: no change
    torch.manual_seed(0)
    net = Scaled(MLP(2, 1, width=8, depth=2, embedding=FourierFeatures(2, 4, seed=1)), factor=0.5)
    spec = json.loads(json.dumps(net_spec(net)))
    assert spec["class"] == "tests.Scaled" and spec["config"]["net"]["class"] == "MLP"
    rebuilt = build_net(spec["class"], spec["config"])
    assert isinstance(rebuilt, Scaled) and isinstance(rebuilt.net, MLP) and rebuilt.factor == 0.5
    rebuilt.load_state_dict(net.state_dict())
    assert net_spec(rebuilt) == spec
    x = torch.rand(5, 2)
    assert torch.equal(rebuilt(x), net(x))
    # and nested inside pinnkit's own nets
    hc = HardConstraint(net, 0.0, Expression("x*(1 - x)", ("x", "y")))
    again = build_net(**dict(zip(("class_name", "config"), net_spec(hc).values(), strict=True)))
    again.load_state_dict(hc.state_dict())
    assert torch.equal(again(x), hc(x))
