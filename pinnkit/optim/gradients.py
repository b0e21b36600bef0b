r"""Per-loss gradients: ``d L_i / d theta`` for each of ``m`` scalar losses, and their flat ``(m, D)`` form.

Two ways to compute them, with the same result up to rounding:

* ``"batched"``: one vectorised backward pass over the stacked losses ``L = (L_1, .., L_m)``,
  ``torch.autograd.grad(L, params, grad_outputs=I_m, is_grads_batched=True)``: ``torch.vmap`` runs the
  backward graph once with a batch of ``m`` output cotangents (the rows of the identity). Fewer, larger kernels;
  but every row travels through the *whole* graph, the parts of other losses included.
* ``"loop"``: ``m`` backward passes with ``retain_graph=True``, each through the graph of its own loss only.

In pinnkit's problems every loss term shares one forward pass of the network over all points, but only the PDE
terms have the expensive derivative graph, so the loop's extra passes (conditions: network backward only) are
cheap, while the batched pass pushes every row through the PDE's double-backward graph: on a CPU the loop
measured about 2-3x faster on the Burgers problem (``benchmarks/per_loss_gradients.py``). Batching can fail for
graphs with operations that have no vmap rule (custom ``autograd.Function`` s without ``vmap``); the optimizers'
``gradients="auto"`` then falls back to the loop.

Shapes: ``params`` is a sequence of tensors ``p_k``; the gradients are a list with one ``(m, *p_k.shape)``
tensor per parameter; :func:`flatten` turns them into the ``(m, D)`` matrix, ``D = sum_k p_k.numel()``, and
:func:`unflatten` cuts a ``(D,)`` vector back into parameter-shaped views.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ..checks import check_choice

METHODS = ("batched", "loop")


def per_loss_gradients(losses: Sequence[Tensor], params: Sequence[Tensor], method: str = "loop", *,
                       retain_graph: bool = False) -> list[Tensor]:
    """Gradients of each scalar loss with respect to each parameter: one ``(m, *p.shape)`` tensor per ``p``.

    A loss that does not depend on a parameter (or on none at all) contributes zeros. ``retain_graph=True``
    keeps the graph for later backward passes (the loop retains it between its own passes regardless).
    """
    method = check_choice(method, "method", METHODS)
    losses = [_scalar(loss, i) for i, loss in enumerate(losses)]
    if not losses:
        raise ValueError("losses must not be empty")
    params = list(params)
    m = len(losses)
    needs = [loss.requires_grad for loss in losses]
    if not any(needs) or not params:
        return [torch.zeros((m, *p.shape), dtype=p.dtype, device=p.device) for p in params]
    if method == "batched":
        stacked = torch.stack(losses)
        eye = torch.eye(m, dtype=stacked.dtype, device=stacked.device)
        grads = torch.autograd.grad(stacked, params, grad_outputs=eye, is_grads_batched=True, allow_unused=True,
                                    retain_graph=retain_graph)
        return [torch.zeros((m, *p.shape), dtype=p.dtype, device=p.device) if g is None else g
                for g, p in zip(grads, params, strict=True)]
    last = max(i for i, need in enumerate(needs) if need)
    rows: list[list[Tensor | None]] = []
    for i, loss in enumerate(losses):
        if needs[i]:
            rows.append(list(torch.autograd.grad(loss, params, allow_unused=True,
                                                 retain_graph=retain_graph or i < last)))
        else:
            rows.append([None] * len(params))
    return [torch.stack([torch.zeros_like(p) if row[k] is None else row[k] for row in rows])
            for k, p in enumerate(params)]


def flatten(grads: Sequence[Tensor]) -> Tensor:
    """Per-parameter gradients ``(m, *p.shape)`` as one ``(m, D)`` matrix (parameters in order)."""
    m = grads[0].shape[0]
    return torch.cat([g.reshape(m, -1) for g in grads], dim=1)


def unflatten(vector: Tensor, params: Sequence[Tensor]) -> list[Tensor]:
    """A ``(D,)`` vector cut into views shaped like ``params`` (the inverse of :func:`flatten` for one row)."""
    out, start = [], 0
    for p in params:
        out.append(vector[start:start + p.numel()].view_as(p))
        start += p.numel()
    if start != vector.numel():
        raise ValueError(f"vector has {vector.numel()} entries; the parameters have {start}")
    return out


def _scalar(loss, i: int) -> Tensor:
    if not isinstance(loss, Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
        raise ValueError(f"losses[{i}] must be a scalar tensor; got {shape}")
    return loss.reshape(())
