r"""MultiAdam: Adam with separate moments per loss group (Yao et al., ICML 2023, arXiv 2306.02816).

The losses are split into ``n`` groups (by default the PDE residual terms | all boundary, initial and data
terms). Each group ``i`` has its own gradient ``g_i`` and its own Adam moments, per parameter entry:

.. math::

    m_i \leftarrow \beta_1 m_i + (1 - \beta_1) g_i, \qquad v_i \leftarrow \beta_2 v_i + (1 - \beta_2) g_i^2,

    u_i = \frac{m_i / (1 - \beta_1^t)}{\sqrt{v_i / (1 - \beta_2^t)} + \epsilon}, \qquad
    \theta \leftarrow \theta - \mathrm{lr} \sum_i w_i u_i, \qquad w_i = 1/n .

Each ``u_i`` is invariant to a rescaling of its group's loss (up to ``eps``), so loss terms whose scales differ
by orders of magnitude move the parameters by comparable amounts. With one group it is Adam. Defaults from the
paper: ``lr = 1e-3``, ``betas = (0.99, 0.99)``, ``eps = 1e-8``.

State per parameter ``p``: ``step`` (int), ``exp_avg`` and ``exp_avg_sq`` of shape ``(n, *p.shape)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

from ..checks import check_betas, check_lr, check_non_negative_float, check_weights
from .multi_loss import Groups, MultiLossOptimizer


class MultiAdam(MultiLossOptimizer):
    """MultiAdam.

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups; leave them out (``MultiAdam(lr=1e-3)``) for a spec.
    lr : float
        Learning rate (default ``1e-3``).
    betas : (float, float)
        Moment decay rates (default ``(0.99, 0.99)``).
    eps : float
        Added to the square root of each group's second moment (default ``1e-8``).
    groups : str or sequence, optional
        Loss groups (default ``"pde|rest"``); see :mod:`pinnkit.optim.multi_loss`.
    weights : sequence of float, optional
        ``w_i`` per group (default ``1/n`` each).
    gradients : str
        ``"auto"``, ``"batched"`` or ``"loop"``: how the per-group gradients are computed.
    """

    default_groups = "pde|rest"

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.99, 0.99),
                 eps: float = 1e-8, *, groups: Groups | None = None, weights: Sequence[float] | None = None,
                 gradients: str = "auto"):
        defaults = {"lr": check_lr(lr), "betas": check_betas(betas), "eps": check_non_negative_float(eps, "eps"),
                    "weights": check_weights(weights)}
        super().__init__(params, defaults)
        self._init_losses(groups, gradients)
        if weights is not None and not isinstance(self.groups, str) and len(weights) != len(self.groups):
            raise ValueError(f"weights has {len(weights)} entries for {len(self.groups)} groups")

    def check_terms(self, terms: Sequence[str], pde_terms: Sequence[str] = ()) -> None:
        n = len(self.loss_groups(terms, pde_terms))
        for group in self.param_groups:
            if group["weights"] is not None and len(group["weights"]) != n:
                raise ValueError(f"weights has {len(group['weights'])} entries for {n} loss groups "
                                 f"{self.loss_groups(terms, pde_terms)}")

    @staticmethod
    def group_weights(group: dict, n: int) -> tuple[float, ...]:
        """The loss-group weights ``w`` of parameter group ``group`` for ``n`` loss groups (default ``1/n``)."""
        weights = group["weights"]
        if weights is None:
            return (1.0 / n,) * n
        if len(weights) != n:
            raise ValueError(f"weights has {len(weights)} entries for {n} loss groups")
        return tuple(weights)

    @staticmethod
    def step_numbers(group: dict, t: int, like: Tensor) -> Tensor:
        """``(lr / (1 - beta1^t), sqrt(1 - beta2^t), beta1, beta2, eps)`` (5,) of parameter group ``group`` at step
        ``t``, in ``like``'s dtype and device: the step's numbers enter the update as a tensor, so that a new step
        count is a new input, not a new graph."""
        beta1, beta2 = group["betas"]
        return torch.tensor((group["lr"] / (1 - beta1**t), (1 - beta2**t) ** 0.5, beta1, beta2, group["eps"]),
                            dtype=like.dtype, device=like.device)

    def _update(self, losses: list[Tensor]) -> None:
        n = len(losses)
        params = self._params()
        grads = dict(zip(map(id, params), self._loss_gradients(losses, params), strict=True))
        mine, gradients, exp_avgs, exp_avg_sqs, scalars, weights = [], [], [], [], [], []
        for group in self.param_groups:
            group_weights = self.group_weights(group, n)
            group_w = None
            for p in group["params"]:
                if id(p) not in grads:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros((n, *p.shape), dtype=p.dtype, device=p.device)
                    state["exp_avg_sq"] = torch.zeros((n, *p.shape), dtype=p.dtype, device=p.device)
                state["step"] += 1
                t = state["step"]
                mine.append(p)
                gradients.append(grads[id(p)])
                exp_avgs.append(state["exp_avg"])
                exp_avg_sqs.append(state["exp_avg_sq"])
                scalars.append(self.step_numbers(group, t, p))
                if group_w is None:
                    group_w = torch.tensor(group_weights, dtype=p.dtype, device=p.device)
                weights.append(group_w)
        if not mine:
            return
        with torch.no_grad():
            if self.compiled is None:
                multiadam_update(mine, gradients, exp_avgs, exp_avg_sqs, scalars, weights)
            else:
                # 0-dim parameters through (1,) views (Compiled.writable)
                self.compiled.call(multiadam_update, self.compiled.writable(mine), gradients, exp_avgs, exp_avg_sqs,
                                   scalars, weights)


def multiadam_update(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor], exp_avg_sqs: list[Tensor],
                     scalars: list[Tensor], weights: list[Tensor], ok: Tensor | None = None) -> None:
    """The MultiAdam update (module docstring) of every parameter in place: ``grads[i]`` and the moments are
    (n, *params[i].shape); ``scalars[i]`` is ``(lr / (1 - beta1^t), sqrt(1 - beta2^t), beta1, beta2, eps)`` of its
    group and step; ``weights[i]`` the group's (n,) loss-group weights ``w``. ``ok`` (a 0-dim bool tensor), when
    given, decides whether the new values are taken (``where(ok, new, old)``: a refused update changes nothing)."""
    for p, g, m, v, numbers, w in zip(params, grads, exp_avgs, exp_avg_sqs, scalars, weights, strict=True):
        step_size, bias2_sqrt, beta1, beta2, eps = numbers.unbind()
        w = w.view(-1, *([1] * (m.dim() - 1)))
        if ok is None:
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).add_((1 - beta2) * g * g)
            u = m / (v.sqrt() / bias2_sqrt + eps)
            p.sub_(step_size * (w * u).sum(dim=0).view(p.shape))
            continue
        m_new = torch.lerp(m, g, 1 - beta1)
        v_new = v * beta2 + (1 - beta2) * g * g
        u = m_new / (v_new.sqrt() / bias2_sqrt + eps)
        p.copy_(torch.where(ok, p - step_size * (w * u).sum(dim=0).view(p.shape), p))
        m.copy_(torch.where(ok, m_new, m))
        v.copy_(torch.where(ok, v_new, v))
