r"""M-ConFIG: ConFIG with momentum, one loss backpropagated per step (Liu, Chu & Thuerey, ICLR 2025,
arXiv 2408.11104).

Each step backpropagates only loss ``i = k mod m`` (round robin over the ``m`` loss groups; ``k`` counts the
steps) and keeps a first moment per loss, bias-corrected by that loss's own count ``t_i`` of updates:

.. math::

    m_i \leftarrow \beta_1 m_i + (1 - \beta_1) g_i, \qquad \hat m_j = \frac{m_j}{1 - \beta_1^{t_j}}, \qquad
    g_c = \mathrm{ConFIG}(\hat m_1, \dots, \hat m_m),

    v \leftarrow \beta_2 v + (1 - \beta_2) s^2, \qquad
    \theta \leftarrow \mathrm{base}\Big(\theta, \frac{g_c}{\sqrt{v / (1 - \beta_2^{t})} + \epsilon}\Big),

with ``t`` the number of combined updates so far. Until every loss has been seen once the update is zero (no
base step). ``second_moment`` chooses ``s``:

* ``"direction"`` (default, as ``ALGORITHMS.md`` states the method): ``s = g_c``, the combined direction;
* ``"pseudo_gradient"``: the rule of the authors' ``conflictfree`` package (its ``PseudoMomentumOperator``):
  ``g_c`` is read as a bias-corrected first moment ``M_t = (1 - beta_1^t) g_c`` of an unseen gradient sequence,
  and ``s`` is the gradient that would have produced it, ``s = (M_t - beta_1 M_{t-1}) / (1 - beta_1)``. Because
  ``s`` varies like a gradient rather than a momentum, ``g_c / sqrt(v)`` stays below 1 where ``g_c`` is noisy,
  as in Adam; with ``s = g_c`` it is close to a sign step.

The paper uses it with plain SGD as the base (``betas = (0.9, 0.999)``, ``eps = 1e-8``); a step costs the
forward pass, *one* backward pass, and ConFIG on the ``(m, D)`` moments. The Trainer still evaluates every loss
term each step (for the guard against non-finite losses and the history), so the saving is in the backward
pass only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import Tensor

from ..checks import check_betas, check_choice, check_non_negative_float
from .conflict_free import conflict_free_direction
from .direction import Base, DirectionOptimizer
from .gradients import flatten, per_loss_gradients, unflatten
from .multi_loss import Groups

SECOND_MOMENTS = ("direction", "pseudo_gradient")


class MConFIG(DirectionOptimizer):
    """M-ConFIG around a base optimizer (plain SGD by default).

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups; leave them out (``MConFIG("sgd", lr=5e-4)``) for a spec.
    base : str, optimizer class or callable
        The base optimizer (default ``"sgd"``); see :class:`~pinnkit.optim.ConFIG`.
    betas : (float, float)
        ``(beta_1, beta_2)`` of the per-loss first moments and of the second moment (default ``(0.9, 0.999)``).
    eps : float
        Added to the square root of the second moment (default ``1e-8``).
    second_moment : str
        ``"direction"`` (default) or ``"pseudo_gradient"`` (see the module docstring).
    groups : str or sequence, optional
        Which losses take turns (default ``"each"``: every term).
    **base_options
        Options of the base optimizer, e.g. ``lr=5e-4``.
    """

    def __init__(self, params: Iterable, base: Base = "sgd", *, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, second_moment: str = "direction", groups: Groups | None = None,
                 **base_options: Any):
        super().__init__(params, base, groups=groups, gradients="loop", **base_options)
        self.betas = check_betas(betas)
        self.eps = check_non_negative_float(eps, "eps")
        self.second_moment = check_choice(second_moment, "second_moment", SECOND_MOMENTS)
        self._steps = 0  # steps taken (the round-robin position)
        self._loss_steps: list[int] = []  # first-moment updates per loss
        self._combined_steps = 0  # combined (non-zero) updates

    def _update(self, losses: list[Tensor]) -> None:
        m = len(losses)
        if not self._loss_steps:
            self._loss_steps = [0] * m
        params = self._params()
        i = self._steps % m
        grads = self._across_ranks(per_loss_gradients([losses[i]], params, "loop"))
        beta1, beta2 = self.betas
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros((m, *p.shape), dtype=p.dtype, device=p.device)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    if self.second_moment == "pseudo_gradient":
                        state["combined_avg"] = torch.zeros_like(p)
                state["exp_avg"][i].lerp_(g[0], 1 - beta1)
            self._loss_steps[i] += 1
            self._steps += 1
            if min(self._loss_steps) == 0:
                return  # zero update until every loss has been seen once
            self._combined_steps += 1
            t = self._combined_steps
            first = flatten([self.state[p]["exp_avg"] for p in params])
            corrections = torch.tensor([1 - beta1**k for k in self._loss_steps], dtype=first.dtype,
                                       device=first.device)
            combined = conflict_free_direction(first / corrections[:, None])
            correction2 = 1 - beta2**t
            out = torch.empty_like(combined)
            for p, c, o in zip(params, unflatten(combined, params), unflatten(out, params), strict=True):
                state = self.state[p]
                if self.second_moment == "pseudo_gradient":
                    moment = c * (1 - beta1**t)
                    s = (moment - beta1 * state["combined_avg"]) / (1 - beta1)
                    state["combined_avg"].copy_(moment)
                else:
                    s = c
                state["exp_avg_sq"].mul_(beta2).addcmul_(s, s, value=1 - beta2)
                torch.div(c, (state["exp_avg_sq"] / correction2).sqrt_().add_(self.eps), out=o)
        self._step_base(out, params)

    def _extra_state(self) -> dict[str, Any]:
        return {"steps": self._steps, "loss_steps": list(self._loss_steps), "combined_steps": self._combined_steps,
                "betas": list(self.betas), "eps": self.eps, "second_moment": self.second_moment}

    def _load_extra_state(self, state: Mapping[str, Any]) -> None:
        self._steps = int(state["steps"])
        self._loss_steps = [int(k) for k in state["loss_steps"]]
        self._combined_steps = int(state["combined_steps"])
        self.betas = check_betas(tuple(state["betas"]))
        self.eps = check_non_negative_float(state["eps"], "eps")
        self.second_moment = check_choice(state["second_moment"], "second_moment", SECOND_MOMENTS)
