"""Residual-based adaptive sampling: RAD and RAR-D (Wu, Zhu, Tan, Kartha & Lu, CMAME 403, 2023).

Both draw points from the density of a dense candidate set

    p(x) proportional to |r(x)|^k / mean(|r|^k) + c

where ``r`` is the PDE residual of the current network (``k`` sharpens the focus on large residuals, ``c``
keeps a uniform share). Every ``period`` steps:

* :class:`RAD` replaces the whole pool of ``n`` points by ``n`` candidates drawn from ``p``
  (the authors' defaults ``k = 1, c = 1``);
* :class:`RARD` (RAR-D) keeps the pool and adds ``add`` candidates drawn from ``p`` (defaults ``k = 2, c = 0``).

Candidates are ``candidates`` fresh uniform points (default ``10 n``); draws are without replacement, so no
point is taken twice. The residual at the candidates costs one extra evaluation every ``period`` steps.
With ``until``, the points stop moving once ``until`` steps have been completed (e.g. adaptive points during
Adam, then L-BFGS on the last set, whose line search wants one objective).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..checks import check_non_negative_float, check_positive_float
from ..geometry.unit_samples import check_count
from .r3 import fitness
from .sampler import Period, PointPool


def residual_density(residual: Tensor, k: float = 1.0, c: float = 1.0) -> Tensor:
    """Probabilities ``p_j = (|r_j|^k / mean |r|^k + c) / sum(...)`` over the points (N,); uniform if all vanish."""
    e = fitness(residual) ** k
    mean = e.mean()
    p = (e / mean if mean > 0 else torch.zeros_like(e)) + c
    total = p.sum()
    return p / total if total > 0 else torch.full_like(p, 1.0 / len(p))


class _ResidualDensity(PointPool):
    def __init__(self, n: int, period: int, k: float, c: float, candidates: int | None, until: int | None):
        super().__init__(n, "random")
        self.period = Period(period, until)
        self.k, self.c = check_positive_float(k, "k"), check_non_negative_float(c, "c")
        self.candidates = check_count(candidates, "candidates") if candidates is not None else 10 * self.n

    def setup(self, domain, rng, dtype, device, residual=None):
        if residual is None:
            raise ValueError(f"{type(self).__name__} needs the PDE residual at candidate points: use it through "
                             "pinnkit.Trainer (which provides it)")
        super().setup(domain, rng, dtype, device, residual)
        self.period.last_step = None

    def draw(self, m: int) -> Tensor:
        """``m`` distinct candidates drawn from the residual density."""
        candidates = self.uniform(self.candidates)
        p = residual_density(self.residual(candidates), self.k, self.c)
        if int((p > 0).sum()) < m:  # too few candidates with mass: give every candidate a little
            p = p + 1e-12
        generator = torch.Generator().manual_seed(int(self.rng.integers(2**62)))
        index = torch.multinomial(p.cpu().double(), m, replacement=False, generator=generator)
        return candidates[index.to(candidates.device)]

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "last_step": self.period.last_step}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.period.last_step = state["last_step"]


class RAD(_ResidualDensity):
    """Residual-based adaptive distribution: every ``period`` steps, ``n`` new points from ``p``."""

    def __init__(self, n: int = 2000, period: int = 1000, k: float = 1.0, c: float = 1.0,
                 candidates: int | None = None, until: int | None = None):
        super().__init__(n, period, k, c, candidates, until)

    def update(self, step, residual):
        if self.period.due(step):
            self._pool = self.draw(self.n)


class RARD(_ResidualDensity):
    """Residual-based adaptive refinement with distribution: every ``period`` steps, ``add`` more points."""

    def __init__(self, n: int = 2000, period: int = 1000, add: int = 10, k: float = 2.0, c: float = 0.0,
                 candidates: int | None = None, until: int | None = None):
        super().__init__(n, period, k, c, candidates, until)
        self.add = check_count(add, "add")

    def update(self, step, residual):
        if self.period.due(step):
            self._pool = torch.cat([self._pool, self.draw(self.add)])
