"""Activation functions by name: :func:`activation` turns a name, a module or a module class into a module.

Names (case-insensitive): ``"tanh"``, ``"sin"`` (:class:`Sine`), ``"relu"``, ``"gelu"``, ``"silu"`` (alias
``"swish"``), ``"softplus"``, ``"sigmoid"``, ``"elu"``. Each name means the torch module with its default
arguments. :func:`activation_name` goes the other way, so that a network can store its activation by name in a
reconstructible configuration.
"""

from __future__ import annotations

from types import MappingProxyType

import torch
from torch import Tensor, nn


class Sine(nn.Module):
    """``sin(x)``, elementwise (the output has the shape of the input). Smooth and periodic; all its derivatives
    are bounded (useful for PINNs whose residuals contain high derivatives)."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.sin(x)


#: Canonical activation names and their module classes (built with default arguments).
ACTIVATIONS: MappingProxyType[str, type[nn.Module]] = MappingProxyType({
    "tanh": nn.Tanh,
    "sin": Sine,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
})

#: :data:`ACTIVATIONS` as a tuple of (name, class) pairs, what :func:`activation_name` reads: a residual traced under
#: ``torch.func`` transforms (the fused training step) may not read a mapping proxy.
_NAMED_CLASSES: tuple[tuple[str, type[nn.Module]], ...] = tuple(ACTIVATIONS.items())

#: Other accepted names, mapped to canonical ones.
ALIASES: MappingProxyType[str, str] = MappingProxyType({"swish": "silu"})


def valid_names() -> list[str]:
    """Every accepted activation name: the canonical ones, then the aliases."""
    return [*ACTIVATIONS, *ALIASES]


def activation(spec: str | nn.Module | type[nn.Module]) -> nn.Module:
    """The activation module described by ``spec``.

    * a name (case-insensitive, see :data:`ACTIVATIONS` and :data:`ALIASES`): a new module with torch's
      default arguments, e.g. ``activation("Tanh")`` is ``nn.Tanh()``;
    * an ``nn.Module`` instance: returned as is (not copied);
    * an ``nn.Module`` subclass: instantiated without arguments, e.g. ``activation(nn.Tanh)``.

    Raises ``ValueError`` for an unknown name (listing the valid ones) or any other kind of ``spec``.
    """
    if isinstance(spec, str):
        key = spec.strip().lower()
        key = ALIASES.get(key, key)
        if key not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {valid_names()} (or an nn.Module); got {spec!r}")
        return ACTIVATIONS[key]()
    if isinstance(spec, nn.Module):
        return spec
    if isinstance(spec, type) and issubclass(spec, nn.Module):
        try:
            return spec()
        except TypeError as e:
            raise ValueError(f"activation class {spec.__qualname__} cannot be built without arguments ({e}); "
                             f"pass an instance instead") from None
    raise ValueError(f"activation must be a name (one of {valid_names()}), an nn.Module or an nn.Module class; "
                     f"got {spec!r}")


def activation_name(module: nn.Module) -> str | None:
    """The canonical name of ``module`` if :func:`activation` of that name builds an equivalent module, else
    ``None``.

    Equivalent means: exactly the class of the name (not a subclass), with the same constructor arguments as the
    default one (compared through ``extra_repr``, so ``nn.Softplus(beta=2)`` or ``nn.ReLU(inplace=True)`` have
    no name) and no parameters or buffers.
    """
    for name, cls in _NAMED_CLASSES:
        if type(module) is cls:
            if module.extra_repr() != cls().extra_repr():
                return None
            if any(True for _ in module.parameters()) or any(True for _ in module.buffers()):
                return None
            return name
    return None
