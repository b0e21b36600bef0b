"""A trained model read back from a checkpoint: ``pinnkit.load(path).predict(X)``."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import nn

from .checkpoint import load_checkpoint


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
        points = torch.as_tensor(np.asarray(x), dtype=self.dtype)
        if points.ndim != 2 or points.shape[1] != len(self.coordinates):
            raise ValueError(f"x must have shape (n, {len(self.coordinates)}) with columns {self.coordinates}; got "
                             f"{tuple(points.shape)}")
        with torch.no_grad():
            return torch.cat([self.net(p) for p in points.split(65536)]).double().numpy()


def load(path: str | os.PathLike, net: nn.Module | None = None) -> Model:
    """Read the model of a checkpoint written by :meth:`pinnkit.Trainer.save` (``weights_only=True``).

    Networks from :mod:`pinnkit.nets` are rebuilt from their recorded configuration; for any other network
    pass an instance of the same architecture as ``net``.
    """
    from .nets.registry import build_net

    state = load_checkpoint(path)
    if net is None:
        spec = state.get("net_spec")
        if spec is None:
            raise ValueError(f"{path} holds a network pinnkit cannot rebuild by itself; pass net= (an instance of "
                             "the same architecture)")
        net = build_net(spec["class"], spec["config"])
    dtype = getattr(torch, state.get("dtype", "float32"))
    net = net.to(dtype=dtype)
    net.load_state_dict(state["net"])
    params = {k: float(v) for k, v in state["parameters"].items()}
    return Model(net, tuple(state["problem"]["coordinates"]), tuple(state["problem"]["outputs"]), params)
