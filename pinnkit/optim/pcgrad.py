r"""PCGrad: projecting conflicting gradients (Yu et al., "Gradient Surgery for Multi-Task Learning",
NeurIPS 2020, arXiv 2001.06782), a baseline for ConFIG.

For each loss ``i``, starting from ``g_i^PC = g_i``, and for every other loss ``j`` in a random order: if
``g_i^PC . g_j < 0`` (the two conflict), remove from ``g_i^PC`` its component along ``g_j``,

.. math::  g_i^{PC} \leftarrow g_i^{PC} - \frac{g_i^{PC} \cdot g_j}{|g_j|^2}\, g_j ,

(always against the *original* ``g_j``). The update direction is ``d = sum_i g_i^PC``, written into ``.grad``
for the base optimizer (Adam by default). With two losses the order does not matter.

The random orders come from the optimizer's own ``torch.Generator`` (seeded by ``seed``, its state saved in
:meth:`state_dict`), so a run is reproducible and resumes exactly; the global random state is not touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import Tensor

from ..checks import check_seed
from .direction import Base, DirectionOptimizer
from .gradients import flatten
from .multi_loss import Groups


def project_conflicting(grads: Tensor, orders: list[list[int]]) -> Tensor:
    """PCGrad's direction ``(D,)`` from per-loss gradients ``grads`` ``(m, D)``, projecting ``g_i`` against the
    losses ``orders[i]`` in that order (each a permutation of the other indices)."""
    sq = (grads * grads).sum(dim=1)
    total = torch.zeros_like(grads[0])
    for i, order in enumerate(orders):
        g = grads[i].clone()
        for j in order:
            dot = g @ grads[j]
            coef = torch.where((dot < 0) & (sq[j] > 0), dot / torch.where(sq[j] > 0, sq[j], 1), 0)
            g = g - coef * grads[j]
        total = total + g
    return total


class PCGrad(DirectionOptimizer):
    """PCGrad around a base optimizer.

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups; leave them out (``PCGrad("adam", lr=1e-3)``) for a spec.
    base : str, optimizer class or callable
        The base optimizer (default ``"adam"``); see :class:`~pinnkit.optim.ConFIG`.
    seed : int
        Seed of the optimizer's own generator of projection orders.
    groups, gradients
        As for :class:`~pinnkit.optim.ConFIG`.
    **base_options
        Options of the base optimizer, e.g. ``lr=1e-3``.
    """

    def __init__(self, params: Iterable, base: Base = "adam", *, seed: int = 0, groups: Groups | None = None,
                 gradients: str = "auto", **base_options: Any):
        super().__init__(params, base, groups=groups, gradients=gradients, **base_options)
        self.seed = check_seed(seed)
        self._generator_state = torch.Generator().manual_seed(self.seed).get_state()

    def _orders(self, m: int) -> list[list[int]]:
        generator = torch.Generator()
        generator.set_state(self._generator_state)
        orders = []
        for i in range(m):
            others = [j for j in range(m) if j != i]
            orders.append([others[k] for k in torch.randperm(m - 1, generator=generator).tolist()])
        self._generator_state = generator.get_state()
        return orders

    def _direction(self, losses: list[Tensor], params: list[Tensor]) -> Tensor:
        grads = flatten(self._loss_gradients(losses, params))
        return project_conflicting(grads, self._orders(len(losses)))

    def _extra_state(self) -> dict[str, Any]:
        return {"seed": self.seed, "generator": self._generator_state.clone()}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        self.seed = int(state["seed"])
        self._generator_state = state["generator"].detach().to(device="cpu", dtype=torch.uint8).clone()
