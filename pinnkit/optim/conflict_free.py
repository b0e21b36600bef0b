r"""The conflict-free direction of ConFIG (Liu, Chu & Thuerey, ICLR 2025, arXiv 2408.11104).

Given the gradients ``g_1 .. g_m`` of ``m`` losses (rows of ``grads``, shape ``(m, D)``, each flattened over all
parameters), ConFIG looks for the direction that makes the same, positive angle with every ``g_i``:

.. math::

    U = \begin{pmatrix} g_1^\top / |g_1| \\ \vdots \\ g_m^\top / |g_m| \end{pmatrix} \in \mathbb{R}^{m \times D},
    \qquad x = U^{+} \mathbf 1, \qquad g_u = x / |x|, \qquad
    d = \Big(\sum_i g_i \cdot g_u\Big)\, g_u .

``x = U^+ 1`` is the minimum-norm solution of ``U x = 1``: where the unit gradients are linearly independent
(``m <= D``), ``u_i . x = 1`` for every ``i``, so ``cos(g_i, d)`` is the same for all ``i`` and positive -- no
loss increases to first order. The length ``sum_i g_i . g_u`` is the sum of the gradients' projections on the
direction. A zero gradient gives a zero row (its equation ``0 = 1`` is dropped by the least-squares solution and
its projection is 0).

Two losses (closed form)
------------------------
For ``m = 2`` the paper writes ``g_u = unit(unit(O(g_1, g_2)) + unit(O(g_2, g_1)))`` with
``O(a, b) = b - (a . b / |a|^2) a``, the part of ``b`` orthogonal to ``a``. With ``u_i`` the unit gradients and
``c = u_1 . u_2``, ``x = (u_1 + u_2) / (1 + c)`` solves ``U x = 1`` and lies in the row space, so it is the
minimum-norm solution and

.. math::  g_u = \frac{u_1 + u_2}{|u_1 + u_2|},

which is the same direction (both are the bisector of ``u_1`` and ``u_2``: ``unit(O(g_1, g_2)) = (u_2 - c u_1) /
s`` and ``unit(O(g_2, g_1)) = (u_1 - c u_2) / s`` with ``s = sqrt(1 - c^2)``, whose sum is ``(1 - c)(u_1 + u_2) /
s``). This form is the one computed: it needs no division by ``sin`` of the angle, so it stays exact for
parallel gradients, where the orthogonal parts ``O`` are pure rounding noise.

Degenerate cases and tolerances
-------------------------------
With ``tol = sqrt(eps)`` of the dtype (``1.5e-8`` in float64, ``3.5e-4`` in float32):

* the pseudo-inverse drops singular values of ``U`` below ``tol * sigma_max``: (nearly) parallel unit gradients
  count as one, so rounding differences between them cannot turn into a large, arbitrary component of ``x``;
* if ``|x| <= tol`` (``m >= 3``) or ``|u_1 + u_2| <= 2 tol`` (``m = 2``) no direction keeps every loss from
  increasing (e.g. two opposite gradients) and the update is zero; a system that can be solved has ``|x| >= 1``.
* ``m > D`` (more losses than parameters): ``U x = 1`` is over-determined and ``x`` is its least-squares,
  minimum-norm solution; the angles are then equal only where the system happens to be consistent.

The computation is a pseudo-inverse of the ``(m, D)`` matrix (no ``torch.linalg.lstsq``, which does not
support under-determined systems on every CUDA path), stays on the gradients' device and dtype, and has no
data-dependent Python branches (no host synchronisation on CUDA).
"""

from __future__ import annotations

import torch
from torch import Tensor


def conflict_free_direction(grads: Tensor) -> Tensor:
    """The ConFIG update direction ``(D,)`` of the per-loss gradients ``grads`` ``(m, D)``.

    See the module docstring for the mathematics; ``m = 1`` returns the gradient itself.
    """
    if not isinstance(grads, Tensor):
        raise ValueError(f"grads must be a tensor of shape (m, D); got {type(grads).__name__}")
    if grads.ndim != 2 or grads.shape[0] == 0 or grads.shape[1] == 0:
        raise ValueError(f"grads must have shape (m, D) with m, D >= 1; got shape {tuple(grads.shape)}")
    if not grads.is_floating_point():
        raise ValueError(f"grads must be a floating-point tensor; got dtype {grads.dtype}")
    m = grads.shape[0]
    if m == 1:
        return grads[0].clone()
    tol = torch.finfo(grads.dtype).eps ** 0.5
    norms = torch.linalg.vector_norm(grads, dim=1, keepdim=True)
    units = grads / torch.where(norms > 0, norms, torch.ones_like(norms))  # zero rows stay zero
    if m == 2:
        x = units[0] + units[1]
        threshold = 2 * tol
    else:
        x = torch.linalg.pinv(units, rtol=tol) @ torch.ones(m, dtype=grads.dtype, device=grads.device)
        threshold = tol
    length = torch.linalg.vector_norm(x)
    ok = length > threshold
    g_u = torch.where(ok, x / torch.where(ok, length, torch.ones_like(length)), torch.zeros_like(x))
    return (grads @ g_u).sum() * g_u

