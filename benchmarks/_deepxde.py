"""DeepXDE for side-by-side benchmarks: imported quietly with the PyTorch backend, torch's defaults kept."""

from __future__ import annotations

import contextlib
import io
import math
import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch


def import_deepxde() -> Any | None:
    """The ``deepxde`` module, or ``None`` if it is not installed.

    DeepXDE announces its backend on import and may move torch's default device (and dtype); both are put
    back so pinnkit and DeepXDE run under the same settings in one process.
    """
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    dtype, device = torch.get_default_dtype(), torch.empty(0).device
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import deepxde
    except ImportError:
        return None
    torch.set_default_dtype(dtype)
    if torch.empty(0).device != device:
        # None, not "cpu", where it was the CPU: setting any default device enters a torch-function mode that
        # every later torch call of both libraries goes through (0.6 ms of a 3 ms compiled Burgers step here)
        torch.set_default_device(None if device.type == "cpu" else device)
    return deepxde


def on_device(device: str) -> contextlib.AbstractContextManager:
    """The context in which DeepXDE must build its model and train to run on ``device``.

    DeepXDE puts its tensors on torch's default device: on import it would make that CUDA for the whole process,
    which :func:`import_deepxde` undoes, so for a GPU run the default device is set around DeepXDE's calls only.
    On the CPU (the default already) this is a no-op, so DeepXDE's CPU steps carry no extra dispatch.
    """
    return contextlib.nullcontext() if torch.device(device).type == "cpu" else torch.device(device)


def check_device(parameters: Iterable[torch.Tensor], device: str) -> None:
    """Raise unless DeepXDE's network ``parameters`` are on ``device`` (a comparison across devices is void)."""
    where = {p.device.type for p in parameters}
    if where != {torch.device(device).type}:
        raise RuntimeError(f"DeepXDE's network is on {sorted(where)}, not on {device!r}: the timings would compare "
                           f"different devices")


def burgers_demo(dde: Any, seed: int) -> tuple[Any, Any]:
    """DeepXDE's ``Burgers.py`` demo set-up, ``(data, net)``: 2540 domain, 80 boundary and 160 initial points on
    ``[-1, 1] x [0, 0.99]``, an FNN 2-20x3-1 with tanh and Glorot-normal weights, after seeding DeepXDE."""
    nu = 0.01 / math.pi
    dde.config.set_random_seed(seed)
    gt = dde.geometry.GeometryXTime(dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, 0.99))

    def pde(x, y):
        return (dde.grad.jacobian(y, x, i=0, j=1) + y * dde.grad.jacobian(y, x, i=0, j=0)
                - nu * dde.grad.hessian(y, x, i=0, j=0))

    bc = dde.icbc.DirichletBC(gt, lambda x: 0, lambda _, on_boundary: on_boundary)
    ic = dde.icbc.IC(gt, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on_initial: on_initial)
    data = dde.data.TimePDE(gt, pde, [bc, ic], num_domain=2540, num_boundary=80, num_initial=160)
    return data, dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")


def poisson_1d_demo(dde: Any, seed: int, width: int = 50, depth: int = 3) -> tuple[Any, Any]:
    """DeepXDE's ``poisson_1d_dirichlet`` demo set-up, ``(data, net)``: ``-u'' = pi^2 sin(pi x)`` on [-1, 1],
    16 domain and 2 boundary points, 100 test points, an FNN 1-50x3-1 with tanh and Glorot-uniform weights."""
    dde.config.set_random_seed(seed)
    geom = dde.geometry.Interval(-1, 1)

    def pde(x, y):
        return -dde.grad.hessian(y, x) - np.pi ** 2 * torch.sin(np.pi * x)

    bc = dde.icbc.DirichletBC(geom, lambda x: np.sin(np.pi * x), lambda _, on_boundary: on_boundary)
    data = dde.data.PDE(geom, pde, bc, 16, 2, solution=lambda x: np.sin(np.pi * x), num_test=100)
    return data, dde.nn.FNN([1] + [width] * depth + [1], "tanh", "Glorot uniform")
