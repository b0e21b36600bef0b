"""Variational residual-based attention (vRBA: Toscano, Chen, Oommen, Darbon & Karniadakis, "A variational
framework for residual-based adaptivity in neural PDE solvers and operator learning", arXiv 2509.14198, 2025).

vRBA reads the RBA multipliers as the dual variable of a primal objective ``E[Phi(|r|)]`` with a convex
potential ``Phi``: the optimal weights are proportional to ``Phi'(|r| / eps)``, so the choice of potential says
which error is minimised (exponential: the uniform error; quadratic: the mean-squared error, i.e. RBA). The
update is the RBA update with that signal (as in the authors' code, ``update_vRBA``):

    q_i        = Phi'(|r_i| / eps)                        (the potential's weight, below)
    s_i        = phi * q_i / max_j q_j + (1 - phi)        (normalisation="max", the authors')
    lambda_i  <- gamma * lambda_i + eta * s_i
    L_pde      = mean_i (lambda_i r_i)^2

with ``phi`` in [0, 1] mixing in a uniform share. The potentials:

* ``"exponential"`` (default): ``q = exp(|r| / eps_k)``, ``eps_k = c * max|r| / log(k + 2)`` annealed with the
  number ``k`` of committed updates (one per Adam step, one per L-BFGS chunk), so
  ``q / max q = (k + 2)^((|r| / max|r| - 1) / c)``;
* ``"cosh"``: ``q = sinh(|r| / eps)`` with ``eps`` solving ``mean_i sinh(|r_i| / eps) = 1`` (Newton), so ``q``
  itself is a density of mean 1 over the points;
* ``"lp"``: ``q = |r|^(p - 1)`` (the ``L^p`` error; default ``p = 4``);
* ``"quadratic"``: ``q = |r|`` (the mean-squared error: RBA itself);
* ``"linear"``: ``q = 1`` (no adaptation).

``normalisation="mean"`` divides by the mean instead of the maximum, ``s = phi q / mean q + (1 - phi)``: ``s``
is then a density on the points (mean 1), and with ``gamma + eta = 1`` and ``initial = 1`` the multipliers keep
mean 1 on points that do not move (the paper's reading of them as importance weights of the loss estimator).
The authors' ``"superexp"`` and ``"logarithmic"`` potentials, and vRBA's importance *sampling* of points by the
multipliers, are not provided here (sampling is a sampler's business). Multipliers per point through
resampling, per PDE term, held through line searches and in checkpoints: as for
:class:`~pinnkit.weighting.ResidualAttention`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..checks import check_choice, check_positive_float, check_probability
from .residual_attention import ResidualAttention

POTENTIALS = ("exponential", "cosh", "lp", "quadratic", "linear")
NORMALISATIONS = ("max", "mean")


def cosh_scale(a: Tensor, iterations: int = 50) -> Tensor:
    """``eps`` (1, m) solving ``mean_i sinh(a_i / eps) = 1`` per column of ``a`` (N, m) >= 0 (Newton from
    ``max a / log(2N)``; the function is decreasing and convex in ``eps``); 1 for an all-zero column."""
    top = a.amax(dim=0, keepdim=True)
    safe = torch.where(top > 0, top, torch.ones_like(top))
    eps = safe / math.log(2 * len(a))
    for _ in range(iterations):
        u = a / eps
        f = torch.sinh(u).mean(dim=0, keepdim=True) - 1
        df = -(torch.cosh(u) * u).mean(dim=0, keepdim=True) / eps
        eps = (eps - f / df).clamp_min(safe * 1e-6)
    return torch.where(top > 0, eps, torch.ones_like(eps))


def potential_weights(a: Tensor, potential: str, *, k: int = 0, c: float = 1.0, p: float = 4.0) -> Tensor:
    """The unnormalised weights ``q`` of ``a = |r|`` (N, m) for ``potential`` (see the module docstring); the
    exponential is returned divided by its maximum (it would overflow otherwise)."""
    top = a.amax(dim=0, keepdim=True)
    ratio = a / torch.where(top > 0, top, torch.ones_like(top))
    if potential == "exponential":
        return torch.exp(math.log(k + 2) / c * (ratio - 1))
    if potential == "cosh":
        return torch.sinh(a / cosh_scale(a))
    if potential == "lp":
        return ratio ** (p - 1)  # |r|^(p-1) up to a constant factor per column
    if potential == "quadratic":
        return ratio
    return torch.ones_like(a)


class VariationalResidualAttention(ResidualAttention):
    """vRBA multipliers of the PDE points (see the module docstring).

    Parameters
    ----------
    potential : {"exponential", "cosh", "lp", "quadratic", "linear"}
        The potential whose weights drive the multipliers (default ``"exponential"``, the authors' default).
    gamma, eta, initial, new_points
        As for :class:`~pinnkit.weighting.ResidualAttention` (defaults 0.999, 0.01, 0, ``"mean"``).
    phi : float
        Share of the adaptive part, in [0, 1] (default 1).
    c : float
        Scale of the exponential potential's temperature ``eps_k = c max|r| / log(k + 2)`` (default 1).
    p : float
        Exponent of the ``"lp"`` potential, >= 1 (default 4).
    normalisation : {"max", "mean"}
        Divide the potential's weights by their maximum (the authors') or their mean.
    """

    label = "vrba"

    def __init__(self, potential: str = "exponential", *, gamma: float = 0.999, eta: float = 0.01,
                 phi: float = 1.0, c: float = 1.0, p: float = 4.0, normalisation: str = "max",
                 initial: float = 0.0, new_points: str = "mean"):
        super().__init__(gamma=gamma, eta=eta, initial=initial, new_points=new_points)
        self.potential = check_choice(potential, "potential", POTENTIALS)
        self.phi = check_probability(phi, "phi")
        self.c = check_positive_float(c, "c")
        self.p = check_positive_float(p, "p")
        if self.p < 1:
            raise ValueError(f"p must be a number >= 1 (the L^p error); got {p!r}")
        self.normalisation = check_choice(normalisation, "normalisation", NORMALISATIONS)

    def signal(self, residual: Tensor) -> Tensor:
        """``s = phi q / max q + (1 - phi)`` (or ``/ mean q``) per term, (N,) or (N, m)."""
        a = residual.abs()
        a2 = a if a.ndim == 2 else a[:, None]
        q = potential_weights(a2, self.potential, k=self.updates, c=self.c, p=self.p)
        scale = q.amax(dim=0, keepdim=True) if self.normalisation == "max" else q.mean(dim=0, keepdim=True)
        q = torch.where(scale > 0, q / torch.where(scale > 0, scale, torch.ones_like(scale)), torch.ones_like(q))
        s = self.phi * q + (1 - self.phi)
        return s if a.ndim == 2 else s[:, 0]
