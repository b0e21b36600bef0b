r"""The Adam update as one compiled graph that refuses a non-finite gradient: :class:`CompiledUpdate`.

With a compiled derivative backend (``Backend("taylor", compile=True)``) the residuals, the loss terms and their
backward pass are compiled graphs (:class:`~pinnkit.derivatives.protocol.Compiled`); what remains of a
first-order step on a small network is the optimizer's update, the check that the gradient is finite and the
Python around them. :class:`CompiledUpdate` does the last three as one graph over all parameters, reading and
writing the state of the ``torch.optim.Adam`` (or ``AdamW``) itself, so checkpoints, resumption and a later eager
step see the same optimizer. With :math:`g` the gradient, :math:`t` the step count after the increment and the
group's :math:`\eta, \beta_1, \beta_2, \epsilon, \lambda`:

.. math::
    g &\leftarrow g + \lambda\,\theta \quad \text{(Adam's L2 penalty; AdamW instead scales}\ \theta
        \leftarrow (1 - \eta\lambda)\,\theta), \\
    m &\leftarrow m + (1 - \beta_1)(g - m), \qquad v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2, \\
    \theta &\leftarrow \theta - \frac{\eta}{1 - \beta_1^t}\;
        \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon}

(Kingma & Ba, "Adam: a method for stochastic optimization", ICLR 2015, Algorithm 1, in torch's arrangement of
the bias corrections; Loshchilov & Hutter, ICLR 2019, for the decoupled decay). Every new value is taken only if
every gradient entry is finite: :math:`\theta, m, v, t \leftarrow` ``where(ok, new, old)``, and the caller gets
``ok``. A refused update leaves the state exactly as it was, which is what the loop's rollback expects.

The hyperparameters enter as 0-dim tensors, so a scheduler's new learning rate does not recompile the graph.
Supported: ``torch.optim.Adam`` and ``AdamW`` (exactly these classes) without ``amsgrad``, ``maximize``,
``differentiable`` or optimizer hooks (:meth:`CompiledUpdate.supports`); the first step of each parameter runs
the optimizer's own ``step()``, which creates its state in torch's layout.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..derivatives.protocol import Compiled
from .rollback import all_finite


def adam_update(params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor], exp_avg_sqs: list[Tensor],
                steps: list[Tensor], hypers: list[Tensor], decoupled: bool, ok: Tensor | None = None) -> Tensor:
    """One guarded Adam update (module docstring) of every tensor in place (each parameter's gradient, moments
    and step count of its shape, a step count (1,)); ``hypers[i]`` (5,) holds parameter i's ``(lr, beta1, beta2,
    eps, weight_decay)`` (its group's). ``ok`` (0-dim bool), when given, decides whether the update is taken;
    default: whether every gradient entry is finite. Returns ``ok``."""
    if ok is None:
        ok = torch.stack([g.isfinite().all() for g in grads]).all()
    for p, g, m, v, t, hyper in zip(params, grads, exp_avgs, exp_avg_sqs, steps, hypers, strict=True):
        lr, beta1, beta2, eps, decay = hyper.unbind()
        step = t.to(lr.dtype) + 1  # torch keeps the count in float32 or the default dtype; powers in p's
        if decoupled:
            base = p * (1 - lr * decay)
        else:
            base = p
            g = g + decay * p
        m_new = m + (1 - beta1) * (g - m)
        v_new = beta2 * v + (1 - beta2) * g * g
        bias1 = 1 - beta1 ** step
        bias2_sqrt = (1 - beta2 ** step).sqrt()
        p_new = base - (lr / bias1) * m_new / (v_new.sqrt() / bias2_sqrt + eps)
        p.copy_(torch.where(ok, p_new, p))
        m.copy_(torch.where(ok, m_new, m))
        v.copy_(torch.where(ok, v_new, v))
        t.copy_(torch.where(ok, step, t))
    return ok


def _decoupled(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer`` decays its weights decoupled from the gradient (AdamW)."""
    return type(optimizer) is torch.optim.AdamW or bool(optimizer.param_groups[0].get("decoupled_weight_decay"))


class CompiledUpdate:
    """The guarded, compiled Adam/AdamW update of an optimizer (module docstring), compiled through ``compiled``
    (the backend's cache, so that its graph counts and compile time are reported with the others)."""

    def __init__(self, optimizer: torch.optim.Optimizer, compiled: Compiled):
        if not self.supports(optimizer):
            raise ValueError(f"optimizer: the compiled update needs torch.optim.Adam or AdamW without amsgrad, "
                             f"maximize, differentiable or hooks; got {type(optimizer).__name__}")
        self.optimizer, self.compiled = optimizer, compiled
        #: AdamW's decoupled weight decay (else Adam's L2 penalty).
        self.decoupled = _decoupled(optimizer)
        self._hyper: dict[int, tuple[tuple[float, ...], Tensor]] = {}

    @staticmethod
    def supports(optimizer: torch.optim.Optimizer) -> bool:
        """Whether ``optimizer`` is an Adam or AdamW whose update :class:`CompiledUpdate` reproduces."""
        if type(optimizer) not in (torch.optim.Adam, torch.optim.AdamW):
            return False
        if optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks:
            return False
        groups = optimizer.param_groups
        return all(not g["amsgrad"] and not g["maximize"] and not g["differentiable"]
                   and not any(isinstance(g[k], Tensor) for k in ("lr", "eps", "weight_decay"))
                   and not any(isinstance(b, Tensor) for b in g["betas"]) for g in groups) and len(
            {bool(g.get("decoupled_weight_decay")) for g in groups}) == 1

    def _hyperparameters(self, index: int, group: dict, like: Tensor) -> Tensor:
        """The group's ``(lr, beta1, beta2, eps, weight_decay)`` as a tensor kept between steps (refilled when a
        scheduler changes them: a new value is a new input, not a new graph)."""
        beta1, beta2 = group["betas"]
        values = (float(group["lr"]), float(beta1), float(beta2), float(group["eps"]), float(group["weight_decay"]))
        held = self._hyper.get(index)
        if held is None or held[1].dtype != like.dtype or held[1].device != like.device:
            held = self._hyper[index] = (values, torch.tensor(values, dtype=like.dtype, device=like.device))
        elif held[0] != values:
            held[1].copy_(torch.tensor(values, dtype=like.dtype))
            self._hyper[index] = held = (values, held[1])
        return held[1]

    def __call__(self) -> bool:
        """Update every parameter that has a gradient; ``False`` (and nothing changed) if any gradient entry is
        not finite."""
        optimizer = self.optimizer
        params, hypers = [], []
        for index, group in enumerate(optimizer.param_groups):
            mine = [p for p in group["params"] if p.grad is not None]
            if mine:
                params += mine
                hypers += [self._hyperparameters(index, group, mine[0])] * len(mine)
        if not params:
            return True
        grads = [p.grad for p in params]
        states = [optimizer.state.get(p) for p in params]
        if any(not s or s["step"].device != p.device for s, p in zip(states, params, strict=True)):
            # a parameter's first step (the optimizer builds its state in its own layout), or a step count kept
            # on the host (torch's non-fused CUDA Adam): the optimizer's own step, after the same check
            if not all_finite(grads):
                return False
            optimizer.step()
            return True
        writable = self.compiled.writable
        with torch.no_grad():
            ok = self.compiled.call(adam_update, writable(params), writable(grads),
                                    writable([s["exp_avg"] for s in states]),
                                    writable([s["exp_avg_sq"] for s in states]),
                                    writable([s["step"] for s in states]), hypers, self.decoupled)
        return bool(ok)
