"""Rebuilding networks from configurations, for checkpoints.

A network's *spec* is ``{"class": name, "config": {...}}``, JSON-serialisable; with its ``state_dict`` it
rebuilds the network exactly::

    spec = net_spec(net)                                  # e.g. json.dump(spec, f); torch.save(net.state_dict(), g)
    net2 = build_net(spec["class"], spec["config"])
    net2.load_state_dict(state_dict)                      # now net2(x) is bitwise net(x)

dtype and device are not part of the spec: ``build_net`` gives a network in torch's default dtype on the CPU,
so move it first (``net2.double()``) where the checkpoint was float64, since ``load_state_dict`` casts to the
module's dtype. Only pinnkit's nets (:data:`NETS`) have specs; a :class:`~pinnkit.nets.HardConstraint` has one
when its functions are :class:`~pinnkit.nets.Expression` formulas (or numbers), not Python callables.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from types import MappingProxyType

from torch import nn

from .deeponet import DeepONet
from .embeddings import FourierFeatures, PeriodicEmbedding
from .expression import Expression
from .hard_constraint import HardConstraint
from .mlp import MLP, InputScaling
from .modified_mlp import ModifiedMLP
from .time_windows import LocalTime, TimeWindows

#: The network classes that :func:`build_net` rebuilds, by class name.
NETS: MappingProxyType[str, type[nn.Module]] = MappingProxyType({
    cls.__name__: cls for cls in (MLP, ModifiedMLP, FourierFeatures, PeriodicEmbedding, InputScaling, TimeWindows,
                                  LocalTime, DeepONet, Expression, HardConstraint)
})

_NESTED = ("embedding", "net", "particular", "distance")  # config keys that hold a nested spec (or a number)
_NESTED_LISTS = ("nets",)  # config keys that hold a list of nested specs


def net_spec(net: nn.Module) -> dict:
    """``{"class": name, "config": net.config}`` for one of pinnkit's nets (exactly one of :data:`NETS`, not a
    subclass). Raises ``ValueError`` for other modules, or if the net's ``config`` cannot be formed (an
    activation given as a module without a name)."""
    cls = type(net)
    if NETS.get(cls.__name__) is not cls:
        raise ValueError(f"net must be one of pinnkit's nets {sorted(NETS)} to have a spec; got {cls.__qualname__}")
    return {"class": cls.__name__, "config": net.config}


def spec_or_none(net: nn.Module) -> dict | None:
    """:func:`net_spec` of ``net``, or None for a network pinnkit cannot rebuild (checkpoints then need ``net=``)."""
    try:
        return net_spec(net)
    except (TypeError, ValueError):
        return None


def build_net(class_name: str, config: Mapping) -> nn.Module:
    """A new network of class ``class_name`` (a key of :data:`NETS`) from its ``config`` (as given by the net's
    ``config`` / :func:`net_spec`, possibly after a JSON round trip). Nested specs (an MLP's ``embedding``) are
    built recursively. Weights are freshly initialised: load the state dict to restore them."""
    if class_name not in NETS:
        raise ValueError(f"class_name must be one of {sorted(NETS)}; got {class_name!r}")
    if not isinstance(config, Mapping):
        raise ValueError(f"config must be a dict of constructor arguments; got {type(config).__name__}")
    cls = NETS[class_name]
    params = list(inspect.signature(cls.__init__).parameters)[1:]
    unknown = sorted(set(config) - set(params), key=str)
    if unknown:
        raise ValueError(f"config has unknown keys {unknown} for {class_name}; valid keys: {params}")
    kwargs = dict(config)
    for key in _NESTED:
        spec = kwargs.get(key)
        if spec is not None and not (key == "particular" and isinstance(spec, (int, float))):
            if not isinstance(spec, Mapping) or set(spec) != {"class", "config"}:
                raise ValueError(f"config[{key!r}] must be None or a nested spec {{'class': ..., 'config': ...}}; "
                                 f"got {spec!r}")
            kwargs[key] = build_net(spec["class"], spec["config"])
    for key in _NESTED_LISTS:
        specs = kwargs.get(key)
        if specs is not None:
            if not isinstance(specs, (list, tuple)) or not all(
                    isinstance(s, Mapping) and set(s) == {"class", "config"} for s in specs):
                raise ValueError(f"config[{key!r}] must be a list of nested specs {{'class': ..., 'config': ...}}")
            kwargs[key] = [build_net(s["class"], s["config"]) for s in specs]
    return cls(**kwargs)
