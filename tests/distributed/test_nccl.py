"""NCCL ranks, one GPU each, against one process on a GPU (float64), and gloo reducing CUDA tensors; these run
wherever the machine has the GPUs and skip elsewhere."""

from __future__ import annotations

import pytest
import torch

from . import scenarios
from .launch import run_ranks

GPUS = torch.cuda.device_count() if torch.cuda.is_available() else 0
NCCL = torch.distributed.is_available() and torch.distributed.is_nccl_available()

#: A first-order method, a quasi-Newton one, a multi-loss one, a sampler and the operator objective.
NAMES = ("adam", "lbfgs", "multiadam", "rad", "operator")


@pytest.mark.skipif(GPUS < 2 or not NCCL, reason="needs 2 CUDA devices and NCCL")
def test_two_nccl_ranks_take_the_steps_of_one_gpu_process():
    ranks = run_ranks(scenarios.run_all, NAMES, None, "cuda", backend="nccl")
    for name in NAMES:
        one = scenarios.run(name, False, "cuda")
        first, second = ranks[0][name], ranks[1][name]
        assert first["step"] == one["step"] == scenarios.STEPS
        for key in ("params", "loss", "points"):
            torch.testing.assert_close(first[key], second[key], rtol=0, atol=0, msg=f"{name}: ranks on {key}")
            torch.testing.assert_close(first[key], one[key], rtol=0, atol=1e-10, msg=f"{name}: {key}")


@pytest.mark.skipif(GPUS < 1, reason="needs CUDA")
def test_one_gpu_shared_by_two_gloo_ranks_agrees_with_the_cpu():
    ranks = run_ranks(scenarios.run_all, ("adam", "r3"), None, "cuda:0")  # gloo reduces CUDA tensors too
    for name in ("adam", "r3"):
        cpu = scenarios.run(name, False)
        torch.testing.assert_close(ranks[0][name]["params"], cpu["params"], rtol=0, atol=1e-10, msg=name)
