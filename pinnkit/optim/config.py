r"""ConFIG: conflict-free updates from per-loss gradients (Liu, Chu & Thuerey, ICLR 2025, arXiv 2408.11104).

Each step computes the gradient ``g_i`` of every loss group (by default every loss term), combines them into
the conflict-free direction of :func:`~pinnkit.optim.conflict_free.conflict_free_direction`,

.. math::  d = \Big(\sum_i g_i \cdot g_u\Big) g_u, \qquad g_u = \frac{U^+ \mathbf 1}{|U^+ \mathbf 1|},
    \qquad U = (g_i / |g_i|)_i ,

whose cosine with every ``g_i`` is the same and positive, writes ``d`` into ``.grad`` and takes a step of the
base optimizer (Adam by default, as in the paper) with it. Cost per step: the forward pass, the ``m`` per-loss
gradients (see :mod:`pinnkit.optim.gradients`) and a pseudo-inverse of an ``(m, D)`` matrix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from torch import Tensor

from .conflict_free import conflict_free_direction
from .direction import Base, DirectionOptimizer
from .gradients import flatten
from .multi_loss import Groups


class ConFIG(DirectionOptimizer):
    """ConFIG around a base optimizer.

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups, as for any torch optimizer. Leave them out
        (``ConFIG("adam", lr=1e-3)``) for a spec ``params -> ConFIG`` (the Trainer's ``optimizer=``).
    base : str, optimizer class or callable
        ``"adam"`` (default), ``"adamw"``, ``"sgd"``, ``"rmsprop"``, a :class:`torch.optim.Optimizer` class, or
        a function ``params, **base_options -> Optimizer``.
    groups : str or sequence, optional
        Which losses are balanced (default ``"each"``: every term); see :mod:`pinnkit.optim.multi_loss`.
    gradients : str
        ``"auto"``, ``"batched"`` or ``"loop"``: how the per-loss gradients are computed.
    **base_options
        Options of the base optimizer, e.g. ``lr=1e-3``.
    """

    def __init__(self, params: Iterable, base: Base = "adam", *, groups: Groups | None = None,
                 gradients: str = "auto", **base_options: Any):
        super().__init__(params, base, groups=groups, gradients=gradients, **base_options)

    def _direction(self, losses: list[Tensor], params: list[Tensor]) -> Tensor:
        return conflict_free_direction(flatten(self._loss_gradients(losses, params)))
