"""Residual-based attention (RBA): per-point multipliers of the PDE residual that accumulate its normalised size
(Anagnostopoulos, Toscano, Stergiopulos & Karniadakis, "Residual-based attention in physics-informed neural
networks", CMAME 421, 116805, 2024; arXiv 2307.00379).

Every collocation point ``i`` carries a multiplier ``lambda_i`` (one per PDE term). With the residual ``r`` of
the step,

    lambda_i <- gamma * lambda_i + eta * |r_i| / max_j |r_j|
    L_pde = mean_i (lambda_i r_i)^2                                  (trainer weights w_i = lambda_i^2)

The multiplier multiplies the residual, so it enters the mean square squared (as in the authors' code,
``loss_r = mean((rsum * r)**2)``). Defaults ``gamma = 0.999, eta = 0.01`` (the authors' vRBA code; their RBA
Allen-Cahn notebook uses ``eta = 0.001`` and notes that ``eta = 0.01`` bounds the multipliers by 10). They
start at ``initial`` (0 in the RBA code) and stay in ``[0, max(initial, eta / (1 - gamma))]``, ``[0, 10]``
with the defaults, so the authors pair RBA with a global weight of that order squared on the
conditions (e.g. ``loss_weights={"ic": 100}``). Multipliers carry no gradient ("gradient-less").

**Order within a step** (the authors' code): the step's residual updates the multipliers and the updated
multipliers weight that same step's loss. :meth:`~ResidualAttention.compute` forms the update without keeping
it; :meth:`~ResidualAttention.update`, which the trainer calls once after each accepted step, commits the update
of the step's evaluation. While held (each L-BFGS chunk: :meth:`~pinnkit.weighting.Weighting.hold`) the chunk's
first update is reused by every line-search evaluation, and committed once after the chunk. So the multipliers
never move inside a line search; they advance once per Adam step and once per L-BFGS chunk.

**Points that move.** Multipliers belong to points, matched by their coordinates: when the sampler hands out
other points than those of the last committed update (R3 releasing some, RAR-D adding some, Resample / RAD
redrawing), a point found among the previous ones (exactly equal coordinates) keeps its multiplier, whichever
row it is in; a new point starts at the mean of the previous multipliers (``new_points="mean"``, the default:
it neither favours nor ignores a fresh point) or at ``initial`` (``new_points="initial"``). This needs nothing
from the sampler, so it works with any of them, and with checkpoints (points restored equal keep theirs);
like the trainer, it takes a sampler to replace its points tensor when it moves them, never to edit it in place.

**Several PDE terms** (a residual (N, m)): each term has its own multipliers, normalised by its own maximum;
the weighting then returns per-term weights ``{term: lambda^2}``. The conditions' terms are not reweighted: the
trainer hands a weighting their scalar losses only, not their per-point residuals (the authors' Allen-Cahn code
too applies RBA to the PDE residual alone). The variational family (vRBA) is
:class:`~pinnkit.weighting.VariationalResidualAttention`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..checks import check_choice, check_in_interval, check_non_negative_float, check_positive_float
from .weighting import Weighting, Weights

NEW_POINTS = ("mean", "initial")


def match_rows(new: Tensor, old: Tensor) -> Tensor:
    """For each row of ``new`` (N, d), the index of an equal row of ``old`` (M, d), or -1 where there is none;
    (N,) long. Exact comparison of coordinates (a kept point keeps them bit for bit)."""
    if new.ndim != 2 or old.ndim != 2 or new.shape[1] != old.shape[1] or len(old) == 0:
        return torch.full((len(new),), -1, dtype=torch.long, device=new.device)
    _, inverse = torch.unique(torch.cat([old, new.to(old)]), dim=0, return_inverse=True)
    owner = torch.full((int(inverse.max()) + 1,), -1, dtype=torch.long, device=new.device)
    owner[inverse[: len(old)]] = torch.arange(len(old), device=new.device)
    return owner[inverse[len(old):]]


def normalised_residual(residual: Tensor) -> Tensor:
    """``|r| / max |r|`` per column of ``residual`` (N,) or (N, m), in [0, 1]; 0 for a column that is all zero."""
    a = residual.abs()
    top = a.amax(dim=0, keepdim=True)
    return torch.where(top > 0, a / torch.where(top > 0, top, torch.ones_like(top)), torch.zeros_like(a))


class ResidualAttention(Weighting):
    """Residual-based attention of the PDE points (see the module docstring).

    Parameters
    ----------
    gamma : float
        Memory of the multipliers, in [0, 1) (default 0.999).
    eta : float
        Step of the multipliers, > 0 (default 0.01); they are bounded by ``eta / (1 - gamma)``.
    initial : float
        Multiplier of every point when training starts (default 0, as in the authors' code).
    new_points : {"mean", "initial"}
        Multiplier of a point that was not among the previous ones: the mean of the previous multipliers (per
        term), or ``initial``.

    Attributes
    ----------
    multipliers : Tensor or None
        The committed multipliers ``lambda`` (N,) for one PDE term, (N, m) for m, of the points :attr:`points`.
    updates : int
        Number of committed updates.
    """

    #: Prefix of the entries of :meth:`info` in the history.
    label = "rba"

    def __init__(self, *, gamma: float = 0.999, eta: float = 0.01, initial: float = 0.0, new_points: str = "mean"):
        self.gamma = check_in_interval(gamma, "gamma", 0, 1, high_open=True)
        self.eta = check_positive_float(eta, "eta")
        self.initial = check_non_negative_float(initial, "initial")
        self.new_points = check_choice(new_points, "new_points", NEW_POINTS)
        self._reset()

    def _reset(self) -> None:
        self.multipliers: Tensor | None = None
        self.points: Tensor | None = None  # the points the multipliers belong to
        self.updates = 0
        self._pending: tuple[Tensor, Tensor] | None = None  # (points, updated multipliers) of the last compute

    def setup(self, problem, dtype, device):
        super().setup(problem, dtype, device)
        self.pde_terms = tuple(problem.pde_terms)
        self._reset()

    # ------------------------------------------------------------------ the update
    def signal(self, residual: Tensor) -> Tensor:
        """The step's attention ``|r| / max |r|`` per term, (N,) or (N, m); subclasses change it."""
        return normalised_residual(residual)

    def current(self, points: Tensor, shape: torch.Size) -> Tensor:
        """The committed multipliers of ``points`` (N, d), of ``shape`` ((N,) or (N, m)): kept by the points that
        were there before (matched by coordinates), the ``new_points`` value for the others."""
        lam, old = self.multipliers, self.points
        if lam is None or old is None or lam.shape[1:] != shape[1:]:
            return torch.full(shape, self.initial, dtype=self.dtype, device=self.device)
        if points is old or (points.shape == old.shape and torch.equal(points, old)):
            return lam
        source = match_rows(points, old)
        fill = lam.mean(dim=0) if self.new_points == "mean" else torch.full(lam.shape[1:], self.initial).to(lam)
        out = fill.expand(shape).clone()
        kept = source >= 0
        out[kept] = lam[source[kept]]
        return out

    def compute(self, points: Tensor, pde_residual: Tensor, condition_losses) -> Weights:
        r = pde_residual.detach().to(dtype=self.dtype, device=self.device)
        if r.ndim == 2 and r.shape[1] != len(self.pde_terms):
            raise ValueError(f"{type(self).__name__}: a residual of {r.shape[1]} columns for the "
                             f"{len(self.pde_terms)} PDE terms {list(self.pde_terms)}")
        updated = self.gamma * self.current(points, r.shape) + self.eta * self.signal(r)
        self._pending = (points, updated)
        w = updated.square()
        return w if w.ndim == 1 else {term: w[:, k] for k, term in enumerate(self.pde_terms)}

    def update(self, step: int) -> None:
        """Commit the multipliers of the step's evaluation (the first of a held chunk)."""
        del step
        if self._pending is not None:
            self.points, self.multipliers = self._pending
            self._pending = None
            self.updates += 1

    # ------------------------------------------------------------------ reporting and state
    def info(self) -> dict[str, float]:
        lam = self.multipliers
        if lam is None:
            return {f"{self.label}_mean": self.initial, f"{self.label}_max": self.initial}
        return {f"{self.label}_mean": float(lam.mean()), f"{self.label}_max": float(lam.max())}

    def state_dict(self) -> dict[str, Any]:
        return {"multipliers": self.multipliers, "points": self.points, "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        def to(t):
            return None if t is None else t.to(dtype=self.dtype, device=self.device)

        self.multipliers, self.points = to(state["multipliers"]), to(state["points"])
        self.updates, self._pending, self._held = int(state["updates"]), None, None
