"""The jet protocol of networks (MLP, HardConstraint with per-output functions, LocalTime) against reverse mode,
and the Backend value: its table, its checks of networks and its compile flag."""

import itertools

import pytest
import torch
from torch import nn

import pinnkit as pk
from pinnkit.derivatives import AutogradDerivatives, Backend, JetDerivatives, as_backend, backend_names, supports_jet


def multi_indices(dim, max_order):
    for order in range(1, max_order + 1):
        yield from itertools.combinations_with_replacement(range(dim), order)


def assert_jet_equals_reverse_mode(net, x, max_order=3, tol=1e-11):
    alphas = list(multi_indices(x.shape[1], max_order))
    jet, auto = JetDerivatives(net, x, alphas), AutogradDerivatives(net, x)
    torch.testing.assert_close(jet.u, auto.u, rtol=0, atol=1e-15)
    for j in range(auto.u.shape[-1]):
        for alpha in alphas:
            torch.testing.assert_close(jet(j, alpha), auto(j, alpha), rtol=tol, atol=tol,
                                       msg=lambda m, a=alpha, j=j: f"output {j}, alpha {a}: {m}")
    assert not jet.missed


def cavity_like(seed=0):
    """u = y^3 (x (1 - x)) + d N_u, v = d N_v, p = N_p with d = 16 x (1 - x) y (1 - y): per-output g and d."""
    torch.manual_seed(seed)
    names = ("x", "y")
    d = pk.nets.Expression("16*x*(1 - x)*y*(1 - y)", names)
    return pk.nets.HardConstraint(pk.nets.MLP(2, 3, width=12, depth=2, input_bounds=[[0, 0], [1, 1]]),
                                  [pk.nets.Expression("y**3*(4*x*(1 - x))**2", names), 0.0, 0.0],
                                  [d, d, 1.0]).double()


def test_hard_constraint_with_per_output_functions_has_the_jet_of_reverse_mode():
    x = torch.rand(30, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert_jet_equals_reverse_mode(cavity_like(), x, max_order=3)


def test_hard_constraint_with_a_shared_distance_and_a_constant_particular():
    torch.manual_seed(1)
    net = pk.nets.HardConstraint(pk.nets.MLP(2, 2, width=10, depth=2, activation="sin"), 0.5,
                                 lambda p: p[:, 0] * (1 - p[:, 1] ** 2)).double()
    x = torch.rand(20, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert_jet_equals_reverse_mode(net, x, max_order=4)


def test_local_time_jet_scales_time_derivatives_by_the_chain_rule():
    torch.manual_seed(2)
    net = pk.nets.LocalTime(pk.nets.MLP(2, 1, width=10, depth=2).double(), window=(0.5, 0.75), span=(0.0, 1.0))
    x = torch.rand(20, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert_jet_equals_reverse_mode(net, x, max_order=3, tol=1e-9)  # d/dt scaled by 4 per order


def test_jet_parameter_gradients_of_a_hard_constraint_equal_reverse_mode():
    x = torch.rand(25, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    grads = []
    for name in ("autograd", "taylor"):
        net = cavity_like(seed=4)
        eng = Backend(name).engine(net, x, [(0,), (1,), (0, 0), (1, 1)])
        loss = (eng(0) * eng(0, (0,)) + eng(1) * eng(0, (1,)) + eng(2, (0,)) - 0.01 * (eng(0, (0, 0)) + eng(0, (1, 1)))
                ).square().mean()
        grads.append(torch.autograd.grad(loss, list(net.parameters())))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-13)


def test_networks_take_part_by_the_protocol_not_by_type():
    class Doubled(pk.nets.MLP):  # changes the forward pass: the MLP's jet would be wrong
        def forward(self, x):
            return 2 * super().forward(x)

    with pytest.raises(ValueError, match="backend 'taylor': net: Doubled changes the MLP's forward pass"):
        Backend("taylor").check(Doubled(1, 1))

    class Scaled(nn.Module):  # a user's net that provides the protocol itself
        def __init__(self):
            super().__init__()
            self.net = pk.nets.MLP(1, 1, width=6, depth=1).double()

        def forward(self, x):
            return 3 * self.net(x)

        def check_jet(self, where="net"):
            self.net.check_jet(where)

        def jet(self, x, multi_indices, compiled=None):
            return {k: None if v is None else 3 * v for k, v in self.net.jet(x, multi_indices, compiled).items()}

    assert supports_jet(Scaled()) and not supports_jet(nn.Linear(1, 1))
    x = torch.linspace(-1, 1, 9, dtype=torch.float64)[:, None]
    assert_jet_equals_reverse_mode(Scaled(), x, max_order=3)
    with pytest.raises(ValueError, match="backend 'taylor': net.net: Taylor-mode derivatives need a "
                                         "network with a jet.*Sequential"):
        Backend("taylor").check(pk.nets.HardConstraint(nn.Sequential(nn.Linear(1, 1)), 0.0, lambda p: p[:, 0]),
                                where="net")
    with pytest.raises(ValueError, match="backend 'taylor': net.activation: Taylor-mode derivatives "
                                         "need an activation.*'relu'"):
        Backend("taylor").check(pk.nets.MLP(1, 1, activation="relu"), where="net")


def test_backend_table_names_and_values():
    assert backend_names("pinn") == ("autograd", "zcs", "taylor", "stde")
    assert backend_names("operator") == ("zcs", "loop", "replicated", "taylor")
    assert as_backend("zcs") == Backend("zcs") and Backend("taylor", compile=True) != Backend("taylor")
    assert as_backend(Backend("taylor", compile=True)).compiled is not None and Backend("taylor").compiled is None
    assert repr(Backend("taylor", compile=True)) == "Backend('taylor', compile=True)"
    with pytest.raises(ValueError, match="backend must be one of .*got 'forward'"):
        Backend("forward")
    with pytest.raises(ValueError, match="compile=True needs backend 'taylor'.*got 'zcs'"):
        Backend("zcs", compile=True)
    with pytest.raises(ValueError, match="compile must be True or False; got 1"):
        Backend("taylor", compile=1)
    with pytest.raises(ValueError, match="backend must be one of .* for a pinn problem; got 'loop'"):
        as_backend("loop", "pinn")
    with pytest.raises(ValueError, match="kind must be one of"):
        backend_names("ode")
    with pytest.raises(ValueError, match="backend must be a name"):
        as_backend(None)


def test_the_cli_offers_the_pinn_backends():
    import argparse

    p = argparse.ArgumentParser()
    pk.cli.add_common_options(p, ("backend",))
    assert p.parse_args(["--backend", "taylor"]).backend == "taylor"
    with pytest.raises(SystemExit):
        p.parse_args(["--backend", "loop"])
