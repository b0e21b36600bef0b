"""A trained model read back from a checkpoint: ``pinnkit.load(path).predict(X)`` for a PINN, and
``pinnkit.load(path).predict(V, X)`` for an operator network (input functions at the sensors, then points)."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import nn

from .checkpoint import load_checkpoint, torch_reason
from .errors import CheckpointError


def _points(x, coordinates: tuple[str, ...], dtype: torch.dtype) -> torch.Tensor:
    """``x`` as an (n, d) tensor, or a ``ValueError`` naming the expected columns."""
    points = torch.as_tensor(np.asarray(x), dtype=dtype)
    if points.ndim != 2 or points.shape[1] != len(coordinates):
        raise ValueError(f"x must have shape (n, {len(coordinates)}) with columns {coordinates}; got "
                         f"{tuple(points.shape)}")
    return points


class Model:
    """A network with its problem's coordinate and output names; :meth:`predict` evaluates it."""

    def __init__(self, net: nn.Module, coordinates: tuple[str, ...], outputs: tuple[str, ...],
                 parameters: dict[str, float] | None = None):
        self.net, self.coordinates, self.outputs = net.eval(), coordinates, outputs
        self.parameters = dict(parameters or {})
        self.dtype = next(net.parameters()).dtype

    def __repr__(self) -> str:
        return f"Model(coordinates={self.coordinates}, outputs={self.outputs}, parameters={self.parameters})"

    def predict(self, x) -> np.ndarray:
        """Outputs ``(n, k)`` (float64 numpy) at points ``x`` ``(n, d)`` with columns in :attr:`coordinates`."""
        points = _points(x, self.coordinates, self.dtype)
        with torch.no_grad():
            return torch.cat([self.net(p) for p in points.split(65536)]).double().numpy()


class OperatorModel:
    """An operator network (e.g. a DeepONet) with its sensors and names; :meth:`predict` evaluates it."""

    def __init__(self, net: nn.Module, coordinates: tuple[str, ...], outputs: tuple[str, ...], sensors: np.ndarray,
                 parameters: dict[str, float] | None = None):
        self.net, self.coordinates, self.outputs = net.eval(), coordinates, outputs
        self.sensors = np.asarray(sensors)
        self.parameters = dict(parameters or {})
        self.dtype = next(net.parameters()).dtype

    def __repr__(self) -> str:
        return (f"OperatorModel(coordinates={self.coordinates}, outputs={self.outputs}, sensors={len(self.sensors)}, "
                f"parameters={self.parameters})")

    def predict(self, sensor_values, x) -> np.ndarray:
        """Outputs ``(M, n, k)`` (float64 numpy) for ``M`` input functions given by their values at
        :attr:`sensors`, ``sensor_values`` ``(M, m)``, at points ``x`` ``(n, d)`` (columns :attr:`coordinates`)."""
        v = torch.as_tensor(np.asarray(sensor_values), dtype=self.dtype)
        if v.ndim != 2 or v.shape[1] != len(self.sensors):
            raise ValueError(f"sensor_values must have shape (M, {len(self.sensors)}): each input function at the "
                             f"{len(self.sensors)} sensors; got {tuple(v.shape)}")
        points = _points(x, self.coordinates, self.dtype)
        with torch.no_grad():
            return torch.cat([self.net(part, points) for part in v.split(256)]).double().numpy()


def load(path: str | os.PathLike, net: nn.Module | None = None, *,
         max_parameters: int | None = None) -> Model | OperatorModel:
    """Read the model of a checkpoint written by :meth:`pinnkit.Trainer.save` or
    :meth:`pinnkit.OperatorTrainer.save` (``weights_only=True``): a :class:`Model` or an :class:`OperatorModel`.

    Networks from :mod:`pinnkit.nets` are rebuilt from their recorded configuration; for any other network
    pass an instance of the same architecture as ``net``. The recorded network is checked before it is built:
    one of more than ``max_parameters`` parameters and buffers (default
    :data:`~pinnkit.nets.registry.MAX_PARAMETERS`, 10^8) is refused, as is an oversized formula (see
    :func:`~pinnkit.nets.registry.build_net`). Every file that does not hold such a model is a
    :class:`~pinnkit.errors.CheckpointError` naming it and what is wrong.
    """
    from .nets.registry import MAX_PARAMETERS, build_net

    state = load_checkpoint(path, keys=("net", "problem", "parameters"))
    name = os.fspath(path)
    if net is None:
        spec = state.get("net_spec")
        if spec is None:
            raise CheckpointError(f"{name!r} holds a network pinnkit cannot rebuild by itself; pass net= (an "
                                  "instance of the same architecture)")
        if not isinstance(spec, dict) or set(spec) != {"class", "config"}:
            raise CheckpointError(f"{name!r}: its net_spec is not {{'class': ..., 'config': ...}}")
        limit = MAX_PARAMETERS if max_parameters is None else max_parameters
        try:
            net = build_net(spec["class"], spec["config"], max_parameters=limit)
        except (TypeError, ValueError) as err:
            raise CheckpointError(f"{name!r}: its network cannot be rebuilt: {err}") from None
    dtype = getattr(torch, str(state.get("dtype", "float32")), None)
    if not isinstance(dtype, torch.dtype):
        raise CheckpointError(f"{name!r}: dtype {state.get('dtype')!r} is not a torch dtype")
    net = net.to(dtype=dtype)
    bad = sorted(k for k, v in state["net"].items()
                 if isinstance(v, torch.Tensor) and v.is_floating_point() and not bool(torch.isfinite(v).all()))
    if bad:
        raise CheckpointError(f"{name!r}: its network weights are not finite ({', '.join(bad[:5])}); pinnkit never "
                              "saves such a state, so the file was written elsewhere or damaged")
    try:
        net.load_state_dict(state["net"])
    except (RuntimeError, TypeError, ValueError) as err:
        raise CheckpointError(f"{name!r}: its weights do not fit the network: {torch_reason(err)}") from None
    params = {k: float(v) for k, v in state["parameters"].items()}
    problem = state["problem"]
    if "sensors" in problem:
        sensors = problem["sensors"]
        sensors = sensors.numpy() if isinstance(sensors, torch.Tensor) else np.asarray(sensors)
        return OperatorModel(net, tuple(problem["coordinates"]), tuple(problem["outputs"]), sensors, params)
    return Model(net, tuple(problem["coordinates"]), tuple(problem["outputs"]), params)
