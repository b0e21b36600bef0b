r"""One function per output column: :class:`PerOutput`, e.g. a hard constraint's particular solution
:math:`g = (g_u, g_v, g_p)` or distance :math:`d = (d_u, d_v, d_p)` for a network with several outputs."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from .registry import net_spec, register_net


@register_net(nested_lists=("parts",))
class PerOutput(nn.Module):
    r"""``x -> (f_1(x), ..., f_k(x))``, ``(..., d) -> (..., k)``: column ``j`` is ``parts[j]``.

    ``parts``: per output a callable ``x -> (...,)`` or ``(..., 1)`` (an :class:`~pinnkit.nets.Expression`, a module,
    a Python function) or a real number (a constant column). Modules among them are submodules. ``config`` (for
    checkpoints) needs every part to be a registered module (an Expression) or a number.

    >>> import torch
    >>> from pinnkit.nets import Expression
    >>> d = PerOutput([Expression("x*(1 - x)", ("x", "y")), 1.0])
    >>> d(torch.tensor([[0.5, 0.0]]))
    tensor([[0.2500, 1.0000]])
    """

    def __init__(self, parts: Sequence[Callable[[Tensor], Tensor] | float]):
        super().__init__()
        if isinstance(parts, (str, bytes)) or not isinstance(parts, Sequence) or not parts:
            raise ValueError(f"parts must be a non-empty sequence of callables or numbers; got {parts!r}")
        for i, part in enumerate(parts):
            if not callable(part) and (isinstance(part, bool) or not isinstance(part, numbers.Real)):
                raise ValueError(f"parts[{i}] must be a callable x -> f(x) or a real number; got {part!r}")
        self.parts = [float(p) if not callable(p) else p for p in parts]
        self.submodules = nn.ModuleList(p for p in parts if isinstance(p, nn.Module))

    def forward(self, x: Tensor) -> Tensor:
        """``(..., d) -> (..., k)``."""
        batch = tuple(x.shape[:-1])
        columns = []
        for i, part in enumerate(self.parts):
            if not callable(part):
                columns.append(torch.full(batch + (1,), part, dtype=x.dtype, device=x.device))
                continue
            value = part(x)
            if not isinstance(value, Tensor) or tuple(value.shape) not in (batch, batch + (1,)):
                shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                raise ValueError(f"parts[{i}](x) must have shape {batch} or {batch + (1,)}; got {shape}")
            columns.append(value if value.ndim == len(batch) + 1 else value.unsqueeze(-1))
        return torch.cat(columns, dim=-1)

    @property
    def config(self) -> dict:
        """``{"parts": [spec or number, ...]}``; a ``ValueError`` for a Python callable among the parts."""
        specs = []
        for i, part in enumerate(self.parts):
            if not callable(part):
                specs.append(part)
            elif isinstance(part, nn.Module):
                specs.append(net_spec(part))
            else:
                raise ValueError(f"PerOutput.config: parts[{i}] is a Python callable, which a checkpoint cannot "
                                 f"hold; give it as a pinnkit.nets.Expression")
        return {"parts": specs}
