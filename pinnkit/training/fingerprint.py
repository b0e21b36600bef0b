"""What a checkpoint was written for, so that it is loaded only into the same set-up.

A fingerprint is a flat dictionary of plain values (strings, numbers, lists) that an objective computes from its
problem and network (:meth:`~pinnkit.training.Objective.fingerprint`): for a PINN, the coordinate names, the
domain's type and bounding box, the outputs, the conditions' names and kinds, the PDE parameters' names, the
dtype and the network's spec. The loop stores it in every checkpoint; :meth:`~pinnkit.training.TrainingLoop.
load_state` compares it with its own and refuses a file written for another set-up with one line per difference,
unless ``strict=False`` asks for the network's weights only (deliberate transfer learning).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError
from ..nets.registry import spec_or_none


def net_fingerprint(net: nn.Module) -> Any:
    """The network's spec (:func:`~pinnkit.nets.net_spec`), or for a network pinnkit cannot rebuild its class
    name and the names and shapes of its tensors."""
    spec = spec_or_none(net)
    if spec is not None:
        return spec
    return {"class": type(net).__name__,
            "tensors": {k: list(v.shape) for k, v in net.state_dict().items()}}


def problem_fingerprint(problem: Any, net: nn.Module, dtype: Any) -> dict[str, Any]:
    """The fingerprint of a PINN or operator problem with its network: coordinate names, the domain's type and
    bounding box, outputs, condition names and kinds, PDE parameter names, dtype and :func:`net_fingerprint`."""
    domain = problem.domain
    return {"coordinates": list(domain.names), "domain": type(domain).__name__, "bounds": domain.bbox.tolist(),
            "outputs": list(problem.outputs), "conditions": [f"{c.name} ({c.kind})" for c in problem.conditions],
            "parameters": sorted(problem.parameters), "dtype": str(dtype).removeprefix("torch."),
            "net": net_fingerprint(net)}


def differences(found: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """One line per key whose value differs between the file's fingerprint ``found`` and ``expected``."""
    lines = []
    for key in list(expected) + [k for k in found if k not in expected]:
        a, b = found.get(key, "(absent)"), expected.get(key, "(absent)")
        if a != b:
            lines.append(f"{key}: {a!r} in the file, {b!r} here")
    return lines


def check_fingerprint(state: Mapping[str, Any], expected: Mapping[str, Any], source: str) -> None:
    """Refuse ``state`` (a checkpoint's contents) unless its fingerprint equals ``expected``."""
    found = state.get("fingerprint")
    if not isinstance(found, Mapping):
        raise CheckpointError(f"{source} holds no fingerprint of the problem it was written for; pass "
                              "strict=False to load its network weights only")
    lines = differences(found, expected)
    if lines:
        listing = "\n  ".join(lines)
        raise CheckpointError(f"{source} was written for another set-up:\n  {listing}\nPass strict=False to start "
                              "from its network weights only (transfer learning).")


def load_weights(net: nn.Module, parameters: Mapping[str, Any], state: Mapping[str, Any], source: str) -> None:
    """Transfer learning: the network weights ``state["net"]`` into ``net`` (:func:`load_net_weights`) and the
    values of the PDE parameters in ``state["parameters"]`` whose names ``parameters`` (name -> tensor) has."""
    load_net_weights(net, state["net"], source)
    with torch.no_grad():
        for k, v in state.get("parameters", {}).items():
            if k in parameters:
                parameters[k].copy_(v)


def load_net_weights(net: nn.Module, weights: Mapping[str, Any], source: str) -> None:
    """``net.load_state_dict(weights)``, or a :class:`CheckpointError` naming the tensors that do not fit."""
    own = net.state_dict()
    missing = sorted(set(own) - set(weights))
    extra = sorted(set(weights) - set(own))
    shapes = sorted(k for k in set(own) & set(weights) if tuple(own[k].shape) != tuple(weights[k].shape))
    if missing or extra or shapes:
        parts = [f"{what}: {', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''}"
                 for what, keys in (("missing in the file", missing), ("not in this network", extra),
                                    ("of other shapes", shapes)) if keys]
        raise CheckpointError(f"the network weights of {source} do not fit this network ({'; '.join(parts)})")
    net.load_state_dict(weights)
