r"""SOAP: Adam in the eigenbasis of Shampoo's preconditioner (Vyas et al., ICLR 2025, arXiv 2409.11321).

Every parameter is seen as a matrix :math:`W \in \mathbb{R}^{m \times n}` with gradient :math:`G`: a 2-D
parameter as it is, a k-D one (k > 2) reshaped to ``(shape[0], numel / shape[0])``, a 1-D one of size ``m``
as ``(m, 1)`` and a scalar as ``(1, 1)``. A side (rows, size ``m``; columns, size ``n``) is *rotated* when
``1 < size <= max_precond_dim`` (a 1-D parameter's rows only with ``precondition_1d``); an unrotated side has
:math:`Q = I`. So by default biases get plain Adam (as in the authors' reference code, ``precondition_1d=False``)
and ``precondition_1d=True`` preconditions them one-sidedly. Per rotated side, with :math:`\beta_s` =
``shampoo_beta``,

.. math::

    L \leftarrow \beta_s L + (1 - \beta_s)\, G G^\top, \qquad R \leftarrow \beta_s R + (1 - \beta_s)\, G^\top G,

and their eigenbases :math:`Q_L, Q_R` (eigenvectors, by decreasing eigenvalue). Adam runs on the rotated
gradient :math:`G' = Q_L^\top G Q_R` (step :math:`t`, moments kept in the rotated basis):

.. math::

    M \leftarrow \beta_1 M + (1 - \beta_1) G', \qquad V \leftarrow \beta_2 V + (1 - \beta_2) G'^{\odot 2},

    W \leftarrow (1 - \mathrm{lr}\,\lambda)\, W - \frac{\mathrm{lr}}{1 - \beta_1^t}\,
    Q_L \left[ \frac{M}{\sqrt{V / (1 - \beta_2^t)} + \epsilon} \right] Q_R^\top .

Order of a step, as in the paper's algorithm and the authors' code (github.com/nikhilvyas/SOAP, soap.py): the update
uses the bases from *before* the current gradient; then :math:`L, R` take in :math:`G`; then, every
``precondition_frequency`` Adam steps, each basis is refreshed by one power iteration and a QR decomposition
(:math:`Q \leftarrow \mathrm{qr}(L\, Q_{\text{sorted}})`, the columns of the old basis sorted by decreasing
:math:`\mathrm{diag}(Q^\top L Q)`), :math:`M` is rotated into the new basis
(:math:`M \leftarrow Q_L'^\top Q_L M Q_R^\top Q_R'`) and :math:`V` is permuted with the sorted columns. The very
first call only builds :math:`L, R` from :math:`G_1` and their bases by an eigendecomposition (``eigh``); it does
not move the parameters (the authors' code skips it "so that we never use the current gradients in the
projection"); Adam's step count :math:`t` starts at the second call.

Defaults are those of the authors' reference code: ``lr=3e-3``, ``betas=(0.95, 0.95)``, ``shampoo_beta``
unset (= ``betas[1]``), ``eps=1e-8``, ``weight_decay=0.01``, ``precondition_frequency=10``,
``max_precond_dim=10000``, ``precondition_1d=False``. Two details differ from that code, so that SOAP without
rotation (``max_precond_dim=0``) is ``torch.optim.AdamW`` from its second call on: :math:`\epsilon` is added to
the bias-corrected :math:`\sqrt{\hat V}` (torch's Adam; the authors' code adds it to :math:`\sqrt{V}`), and
weight decay scales :math:`W` before the step (torch's AdamW; the authors' code after it), a difference of
order :math:`\mathrm{lr}^2 \lambda`.

State per parameter ``p`` (tensors and an int only, so ``state_dict()`` survives ``torch.save`` /
``torch.load(weights_only=True)`` and a resumed run repeats an uninterrupted one bitwise): ``step`` (calls so far),
``exp_avg`` and ``exp_avg_sq`` of shape ``(m, n)`` (in the rotated basis), and per rotated side ``L``, ``Q_L`` of
shape ``(m, m)`` / ``R``, ``Q_R`` of shape ``(n, n)``. State is kept in the parameter's dtype (float32 for
float16 / bfloat16 parameters) and on its device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from ..checks import (
    check_betas,
    check_bool,
    check_in_interval,
    check_lr,
    check_non_negative_float,
    check_non_negative_int,
    check_positive_int,
)


def matrix_shape(shape: torch.Size) -> tuple[int, int]:
    """The ``(m, n)`` a parameter of ``shape`` is seen as (see the module docstring)."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], 1
    return shape[0], shape.numel() // shape[0] if shape[0] else 0


def eigenbasis(matrix: Tensor) -> Tensor:
    """The eigenvectors of the symmetric ``matrix`` ``(k, k)`` as columns, by decreasing eigenvalue (float64 where
    the decomposition fails in the matrix's dtype)."""
    try:
        _, vectors = torch.linalg.eigh(matrix)
    except torch.linalg.LinAlgError:
        _, vectors = torch.linalg.eigh(matrix.double())
        vectors = vectors.to(matrix.dtype)
    return vectors.flip(-1)


def refreshed_basis(matrix: Tensor, basis: Tensor) -> tuple[Tensor, Tensor]:
    """One power iteration with QR from ``basis`` ``(k, k)`` towards the eigenvectors of ``matrix`` ``(k, k)``:
    ``(qr(matrix @ basis[:, order]).Q, order)``, ``order`` sorting the columns by decreasing Rayleigh quotient."""
    product = matrix @ basis
    order = torch.argsort((basis * product).sum(dim=0), descending=True)
    q, _ = torch.linalg.qr(product[:, order])
    return q, order


def rotate(x: Tensor, q_left: Tensor | None, q_right: Tensor | None, *, back: bool = False) -> Tensor:
    """``Q_L^T x Q_R`` (or ``Q_L x Q_R^T`` where ``back``) for ``x`` ``(m, n)``; a missing side is the identity."""
    if q_left is not None:
        x = (q_left if back else q_left.mT) @ x
    if q_right is not None:
        x = x @ (q_right.mT if back else q_right)
    return x


class SOAP(torch.optim.Optimizer):
    """SOAP, first order: ``loss.backward()`` then ``step()`` (see the module docstring for the algorithm).

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups.
    lr : float
        Learning rate (default ``3e-3``).
    betas : (float, float)
        Adam's decay rates of the moments in the rotated basis (default ``(0.95, 0.95)``).
    shampoo_beta : float, optional
        Decay rate of the Kronecker factors ``L``, ``R``, in ``[0, 1)`` (default: ``betas[1]``).
    eps : float
        Added to the bias-corrected root second moment (default ``1e-8``).
    weight_decay : float
        Decoupled weight decay ``lambda`` as in AdamW (default ``0.01``).
    precondition_frequency : int
        Adam steps between refreshes of the eigenbases (default ``10``).
    max_precond_dim : int
        A side larger than this is not rotated (default ``10000``; ``0``: no rotation at all, i.e. AdamW).
    precondition_1d : bool
        Whether 1-D parameters are rotated (one-sidedly; default ``False``: plain Adam for them).
    """

    def __init__(self, params: Iterable, lr: float = 3e-3, betas: tuple[float, float] = (0.95, 0.95),
                 shampoo_beta: float | None = None, eps: float = 1e-8, weight_decay: float = 0.01,
                 precondition_frequency: int = 10, max_precond_dim: int = 10000, precondition_1d: bool = False):
        defaults = {"lr": lr, "betas": betas, "shampoo_beta": shampoo_beta, "eps": eps, "weight_decay": weight_decay,
                    "precondition_frequency": precondition_frequency, "max_precond_dim": max_precond_dim,
                    "precondition_1d": precondition_1d}
        _check_group(defaults)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group, its own settings checked as the constructor's are."""
        super().add_param_group(param_group)
        _check_group(self.param_groups[-1])

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """One SOAP step on the parameters' ``.grad``; ``closure`` (optional) recomputes the loss first and its value
        is returned."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise ValueError("SOAP does not support sparse gradients")
                self._step_parameter(p, group)
        return loss

    def _sides(self, p: Tensor, group: dict[str, Any]) -> tuple[bool, bool]:
        """Whether the rows and the columns of ``p``'s matrix are rotated."""
        m, n = matrix_shape(p.shape)
        limit = group["max_precond_dim"]
        rows = 1 < m <= limit and (p.ndim != 1 or group["precondition_1d"])
        return rows, 1 < n <= limit

    def _step_parameter(self, p: Tensor, group: dict[str, Any]) -> None:
        state = self.state[p]
        dtype = torch.float32 if p.dtype in (torch.float16, torch.bfloat16) else p.dtype
        g = p.grad.to(dtype).reshape(matrix_shape(p.shape))
        beta1, beta2 = group["betas"]
        shampoo_beta = beta2 if group["shampoo_beta"] is None else group["shampoo_beta"]
        if not state:
            rows, columns = self._sides(p, group)
            state["step"] = 1
            state["exp_avg"] = torch.zeros_like(g, memory_format=torch.contiguous_format)
            state["exp_avg_sq"] = torch.zeros_like(g, memory_format=torch.contiguous_format)
            for side, rotated in (("L", rows), ("R", columns)):
                if rotated:
                    k = g.shape[0 if side == "L" else 1]
                    state[side] = torch.zeros((k, k), dtype=dtype, device=g.device)
            self._update_factors(state, g, shampoo_beta)
            for side in ("L", "R"):
                if side in state:
                    state[f"Q_{side}"] = eigenbasis(state[side])
            return  # the first call only builds the bases (see the module docstring)

        state["step"] += 1
        t = state["step"] - 1
        q_left, q_right = state.get("Q_L"), state.get("Q_R")
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        rotated = rotate(g, q_left, q_right)
        exp_avg.lerp_(rotated, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(rotated, rotated, value=1 - beta2)
        denom = (exp_avg_sq.sqrt() / (1 - beta2**t) ** 0.5).add_(group["eps"])
        update = rotate(exp_avg / denom, q_left, q_right, back=True)
        if group["weight_decay"] != 0:
            p.mul_(1 - group["lr"] * group["weight_decay"])
        p.add_(update.reshape(p.shape).to(p.dtype), alpha=-group["lr"] / (1 - beta1**t))

        self._update_factors(state, g, shampoo_beta)
        if t % group["precondition_frequency"] == 0:
            self._refresh_bases(state)

    @staticmethod
    def _update_factors(state: dict[str, Any], g: Tensor, shampoo_beta: float) -> None:
        """``L <- b L + (1 - b) G G^T``, ``R <- b R + (1 - b) G^T G`` for the sides kept."""
        if "L" in state:
            state["L"].lerp_(g @ g.mT, 1 - shampoo_beta)
        if "R" in state:
            state["R"].lerp_(g.mT @ g, 1 - shampoo_beta)

    @staticmethod
    def _refresh_bases(state: dict[str, Any]) -> None:
        """New bases by power iteration + QR; ``exp_avg`` rotated into them, ``exp_avg_sq`` permuted with them."""
        old_left, old_right = state.get("Q_L"), state.get("Q_R")
        exp_avg = rotate(state["exp_avg"], old_left, old_right, back=True)
        for side, dim in (("L", 0), ("R", 1)):
            if side in state:
                q, order = refreshed_basis(state[side], state[f"Q_{side}"])
                state[f"Q_{side}"] = q
                state["exp_avg_sq"] = state["exp_avg_sq"].index_select(dim, order)
        state["exp_avg"] = rotate(exp_avg, state.get("Q_L"), state.get("Q_R"))


def _check_group(group: dict[str, Any]) -> None:
    """Check (and normalise in place) the settings of a parameter group; ``ValueError`` naming the argument."""
    group["lr"] = check_lr(group["lr"])
    group["betas"] = check_betas(group["betas"])
    if group["shampoo_beta"] is not None:
        group["shampoo_beta"] = check_in_interval(group["shampoo_beta"], "shampoo_beta", 0, 1, high_open=True)
    group["eps"] = check_non_negative_float(group["eps"], "eps")
    group["weight_decay"] = check_non_negative_float(group["weight_decay"], "weight_decay")
    group["precondition_frequency"] = check_positive_int(group["precondition_frequency"], "precondition_frequency")
    group["max_precond_dim"] = check_non_negative_int(group["max_precond_dim"], "max_precond_dim")
    group["precondition_1d"] = check_bool(group["precondition_1d"], "precondition_1d")
