"""Rebuilding networks from configurations, for checkpoints.

A network's *spec* is ``{"class": name, "config": {...}}``, JSON-serialisable; with its ``state_dict`` it
rebuilds the network exactly::

    spec = net_spec(net)                                  # e.g. json.dump(spec, f); torch.save(net.state_dict(), g)
    net2 = build_net(spec["class"], spec["config"])
    net2.load_state_dict(state_dict)                      # now net2(x) is bitwise net(x)

dtype and device are not part of the spec: ``build_net`` gives a network in torch's default dtype on the CPU,
so move it first (``net2.double()``) where the checkpoint was float64, since ``load_state_dict`` casts to the
module's dtype. Only registered nets (:data:`NETS`) have specs; a :class:`~pinnkit.nets.HardConstraint` has one
when its functions are :class:`~pinnkit.nets.Expression` formulas (or numbers), not Python callables.

Limits
------
A spec may come from a file, so :func:`build_net` checks it before building anything: at most
:data:`MAX_NETS` networks in all, nested at most :data:`MAX_NESTING` deep, a ``depth`` (and any list in a config)
of at most :data:`MAX_LAYERS`, and at most ``max_parameters`` parameters and buffers in all (default
:data:`MAX_PARAMETERS`, 10^8, about 400 MB in float32; pass a larger number to build a larger network). The
count is exact: the network is first built on torch's ``"meta"`` device, which allocates no memory.

Registering
-----------
A class joins :data:`NETS` with the decorator :func:`register_net`; pinnkit's nets register themselves where
they are defined, so this module imports none of them (the nets import it, never the other way). A class is
rebuildable when its ``config`` property gives its constructor's keyword arguments, JSON-serialisable; config
keys that hold other networks are declared with ``nested=`` (one spec, or None or a number, per key) and
``nested_lists=`` (a list of specs or numbers), and hold :func:`net_spec` of those networks::

    @register_net(nested=("net",))
    class Scaled(nn.Module):
        def __init__(self, net, factor: float): ...
        @property
        def config(self):
            return {"net": net_spec(self.net), "factor": self.factor}
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

import torch
from torch import nn

M = TypeVar("M", bound=nn.Module)

#: The default limit of :func:`build_net` on a network's parameters and buffers (elements, all of them).
MAX_PARAMETERS = 10**8
#: The most hidden layers (a config's ``depth``) and entries of any list in a config that a spec may ask for.
MAX_LAYERS = 1000
#: The most networks one spec may hold, itself and all nested ones.
MAX_NETS = 1000
#: The deepest nesting of specs (a spec inside a spec inside ...).
MAX_NESTING = 16


@dataclass(frozen=True)
class _Entry:
    cls: type[nn.Module]
    nested: tuple[str, ...]
    nested_lists: tuple[str, ...]


_ENTRIES: dict[str, _Entry] = {}
_CLASSES: dict[str, type[nn.Module]] = {}
_NAMES: dict[type[nn.Module], str] = {}

#: The network classes that :func:`build_net` rebuilds, by registered name (a read-only view of the registry;
#: :func:`register_net` adds to it).
NETS: MappingProxyType[str, type[nn.Module]] = MappingProxyType(_CLASSES)


def _names(value, name: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"{name} must be a sequence of config keys (strings); got {value!r}")
    return tuple(value)


def register_net(cls: type[M] | None = None, *, name: str | None = None, nested: Sequence[str] = (),
                 nested_lists: Sequence[str] = ()) -> type[M] | Callable[[type[M]], type[M]]:
    """Class decorator: add ``cls`` to :data:`NETS` under ``name`` (default: the class name), so that
    :func:`net_spec` gives its spec and :func:`build_net` rebuilds it. Usable bare (``@register_net``) or with
    arguments (``@register_net(name=..., nested=(...), nested_lists=(...))``); returns the class unchanged.

    ``nested``: config keys whose value is a nested spec (or None or a number, passed on as they are);
    ``nested_lists``: config keys whose value is a list of nested specs (numbers in it are passed on as they
    are). A name already taken by another class
    is a ``ValueError`` (registering the same class again, or a class of the same module and qualified name, as
    on a module reload, replaces the entry); so is a class that is not an ``nn.Module`` subclass with a
    ``config`` attribute.
    """
    nested, nested_lists = _names(nested, "nested"), _names(nested_lists, "nested_lists")

    def register(klass: type[M]) -> type[M]:
        if not (isinstance(klass, type) and issubclass(klass, nn.Module)):
            raise ValueError(f"register_net registers torch.nn.Module subclasses; got {klass!r}")
        if not hasattr(klass, "config"):
            raise ValueError(f"register_net: {klass.__qualname__} must have a `config` property giving its "
                             f"constructor's arguments, from which build_net rebuilds it")
        key = klass.__name__ if name is None else name
        if not isinstance(key, str) or not key:
            raise ValueError(f"name must be a non-empty string; got {key!r}")
        old = _CLASSES.get(key)
        if old is not None and old is not klass and (old.__module__, old.__qualname__) != (
                klass.__module__, klass.__qualname__):
            raise ValueError(f"register_net: the name {key!r} is taken by {old.__module__}.{old.__qualname__}; "
                             f"register {klass.__module__}.{klass.__qualname__} under another name=")
        if old is not None:
            del _NAMES[old]
        previous = _NAMES.get(klass)
        if previous is not None and previous != key:
            raise ValueError(f"register_net: {klass.__qualname__} is already registered as {previous!r}; a class "
                             f"has one name, got {key!r}")
        _ENTRIES[key] = _Entry(klass, nested, nested_lists)
        _CLASSES[key] = klass
        _NAMES[klass] = key
        return klass

    return register if cls is None else register(cls)


def net_spec(net: nn.Module) -> dict:
    """``{"class": name, "config": net.config}`` for a registered net (exactly one of :data:`NETS`, not a
    subclass). Raises ``ValueError`` for other modules, or if the net's ``config`` cannot be formed (an
    activation given as a module without a name)."""
    cls = type(net)
    name = _NAMES.get(cls)
    if name is None:
        raise ValueError(f"net must be one of pinnkit's nets {sorted(NETS)} (or a class registered with "
                         f"pinnkit.nets.register_net) to have a spec; got {cls.__qualname__}")
    return {"class": name, "config": net.config}


def spec_or_none(net: nn.Module) -> dict | None:
    """:func:`net_spec` of ``net``, or None for a network pinnkit cannot rebuild (checkpoints then need ``net=``)."""
    try:
        return net_spec(net)
    except (TypeError, ValueError):
        return None


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_spec(value) -> bool:
    return isinstance(value, Mapping) and set(value) == {"class", "config"}


def _check_spec(class_name, config, level: int, count: list[int]) -> None:
    """Check the structure and sizes of a spec (recursively) against the limits, building nothing."""
    if class_name not in _ENTRIES:
        raise ValueError(f"class_name must be one of {sorted(NETS)}; got {class_name!r}")
    if not isinstance(config, Mapping):
        raise ValueError(f"config must be a dict of constructor arguments; got {type(config).__name__}")
    count[0] += 1
    if count[0] > MAX_NETS:
        raise ValueError(f"the spec holds more than MAX_NETS={MAX_NETS} networks")
    if level > MAX_NESTING:
        raise ValueError(f"the spec nests networks more than MAX_NESTING={MAX_NESTING} deep")
    depth = config.get("depth")
    if isinstance(depth, int) and not isinstance(depth, bool) and depth > MAX_LAYERS:
        raise ValueError(f"{class_name} config asks for depth={depth}; at most MAX_LAYERS={MAX_LAYERS}")
    for key, value in config.items():
        if isinstance(value, (list, tuple)) and len(value) > MAX_LAYERS:
            raise ValueError(f"{class_name} config[{key!r}] has {len(value)} entries; at most "
                             f"MAX_LAYERS={MAX_LAYERS}")
    entry = _ENTRIES[class_name]
    for key in entry.nested:
        spec = config.get(key)
        if _is_spec(spec):
            _check_spec(spec["class"], spec["config"], level + 1, count)
    for key in entry.nested_lists:
        specs = config.get(key)
        if isinstance(specs, (list, tuple)):
            for spec in specs:
                if _is_spec(spec):
                    _check_spec(spec["class"], spec["config"], level + 1, count)


def _size(net: nn.Module) -> int:
    return sum(t.numel() for t in net.parameters()) + sum(t.numel() for t in net.buffers())


def build_net(class_name: str, config: Mapping, *, max_parameters: int = MAX_PARAMETERS) -> nn.Module:
    """A new network of class ``class_name`` (a key of :data:`NETS`) from its ``config`` (as given by the net's
    ``config`` / :func:`net_spec`, possibly after a JSON round trip). Nested specs (an MLP's ``embedding``, a
    HardConstraint's ``net``, a TimeWindows' ``nets``) are built recursively. Weights are freshly initialised:
    load the state dict to restore them.

    Before anything is allocated the spec is checked against the limits (see *Limits* above): a network of more
    than ``max_parameters`` parameters and buffers, or a spec beyond :data:`MAX_LAYERS`, :data:`MAX_NETS` or
    :data:`MAX_NESTING`, is a ``ValueError`` saying which. (A registered class that cannot be built on the
    ``"meta"`` device, failing there with other than a ``ValueError`` or ``TypeError``, is built without the
    parameter count.)"""
    if isinstance(max_parameters, bool) or not isinstance(max_parameters, int) or max_parameters < 1:
        raise ValueError(f"max_parameters must be a positive integer; got {max_parameters!r}")
    _check_spec(class_name, config, 0, [0])
    try:
        with torch.device("meta"):
            probe = _build(class_name, config)
    except (ValueError, TypeError):
        raise
    except Exception:  # noqa: BLE001 - a class that cannot be built on "meta": build it without the count
        probe = None
    if probe is not None:
        size = _size(probe)
        del probe
        if size > max_parameters:
            raise ValueError(f"{class_name} config asks for {size:,} parameters and buffers, more than "
                             f"max_parameters={max_parameters:,} (config {_summary(config)}); pass a larger "
                             f"max_parameters= to build it")
    return _build(class_name, config)


def _summary(config: Mapping) -> str:
    """The config's numbers and short strings, for messages (nested specs and long values left out)."""
    shown = {k: v for k, v in config.items()
             if isinstance(v, (int, float, type(None))) or (isinstance(v, str) and len(v) <= 40)}
    return repr(shown)


def _build(class_name: str, config: Mapping) -> nn.Module:
    """:func:`build_net` without the limits (checked once, at the top)."""
    if class_name not in _ENTRIES:
        raise ValueError(f"class_name must be one of {sorted(NETS)}; got {class_name!r}")
    if not isinstance(config, Mapping):
        raise ValueError(f"config must be a dict of constructor arguments; got {type(config).__name__}")
    entry = _ENTRIES[class_name]
    params = list(inspect.signature(entry.cls.__init__).parameters)[1:]
    unknown = sorted(set(config) - set(params), key=str)
    if unknown:
        raise ValueError(f"config has unknown keys {unknown} for {class_name}; valid keys: {params}")
    kwargs = dict(config)
    for key in entry.nested:
        spec = kwargs.get(key)
        if spec is None or (isinstance(spec, numbers.Real) and not isinstance(spec, bool)):
            continue
        if not _is_spec(spec):
            raise ValueError(f"config[{key!r}] must be None or a nested spec {{'class': ..., 'config': ...}}; "
                             f"got {spec!r}")
        kwargs[key] = _build(spec["class"], spec["config"])
    for key in entry.nested_lists:
        specs = kwargs.get(key)
        if specs is not None:
            if not isinstance(specs, (list, tuple)) or not all(_is_spec(s) or _is_number(s) for s in specs):
                raise ValueError(f"config[{key!r}] must be a list of nested specs {{'class': ..., 'config': ...}} "
                                 f"(or numbers); got {specs!r}")
            kwargs[key] = [s if _is_number(s) else _build(s["class"], s["config"]) for s in specs]
    return entry.cls(**kwargs)
