"""Fitting a :class:`NeuralSDE` to sample paths, two ways.

**Transition likelihood** (:class:`SDETransitionFit`), for finely sampled paths. Over a short step
``Δ_i = t_{i+1} - t_i`` the Euler–Maruyama scheme of the Itô form of the SDE makes the next state Gaussian,

    u(t_{i+1}) | u(t_i) ~ N(u(t_i) + μ(t_i, u(t_i)) Δ_i,  σσᵀ(t_i, u(t_i)) Δ_i),

so the drift and diffusion are fitted by minimising the mean negative log-likelihood of all observed
transitions (a transition with a missing end is left out). No SDE is solved: every transition is one
evaluation of the networks, and the estimate is consistent as the sampling step goes to zero (its bias is
of the order of the step; for an Ornstein–Uhlenbeck process with rate θ the relative bias of θ is about
θΔ/2). This is the method of choice when the paths are sampled finely (``Δ`` much smaller than the time
scales of the drift). A Stratonovich model is converted to its Itô drift (:meth:`NeuralSDE.ito_drift`).

**Moment matching** (:class:`SDEMomentFit`), for coarsely sampled paths where one step is too long for the
Gaussian transition. The model is sampled with the SDE solver from the observed initial states (fixed
Brownian paths, so the loss is a deterministic function of the parameters) and its time-dependent mean and
variance are matched to the data's:

    L = mean_{i,k} (m̂_ik - m_ik)² / v̄_k + mean_{i,k} (v̂_ik - v_ik)² / v̄_k²,

``m, v`` the per-time, per-component mean and variance of the data, ``m̂, v̂`` the model's, ``v̄_k`` the data's
variance of component ``k`` averaged over time. Only the first two moments are constrained, so the
drift and diffusion are identified only as far as they shape those (enough for linear, Gaussian
processes such as Ornstein–Uhlenbeck; not for the shape of non-Gaussian marginals).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..checks import check_positive_int, check_seed
from .fit import DynamicsFit
from .neural_sde import NeuralSDE
from .vector_field import Autonomous


def _check_paths(sde, t, paths) -> Tensor:
    if not isinstance(sde, NeuralSDE):
        raise ValueError(f"sde must be a pinnkit.dynamics.NeuralSDE; got {type(sde).__name__}")
    if not isinstance(t, Tensor) or t.ndim != 1 or t.numel() < 2 or not bool((t[1:] > t[:-1]).all()):
        raise ValueError("t must be a 1-D tensor of at least two strictly increasing times")
    if not isinstance(paths, Tensor) or paths.ndim != 3 or paths.shape[0] != t.numel():
        raise ValueError(f"paths must be a tensor (T, B, d) with T = len(t) = {t.numel()}; got "
                         f"{tuple(paths.shape) if isinstance(paths, Tensor) else type(paths).__name__}")
    if paths.dtype != t.dtype:
        raise ValueError(f"t and paths must have the same dtype; got {t.dtype} and {paths.dtype}")
    return paths


def transition_nll(sde: NeuralSDE, t: Tensor, paths: Tensor) -> Tensor:
    """Mean negative log-likelihood of the observed Euler–Maruyama transitions of ``paths`` ``(T, B, d)``
    under ``sde`` (per transition, including the ``½ log 2π`` constants); ``NaN`` entries are missing.

    When drift and diffusion are :class:`~pinnkit.dynamics.Autonomous` (they ignore the time), all transitions
    are evaluated in one batch; otherwise one batch per observation time.
    """
    _check_paths(sde, t, paths)
    d = paths.shape[2]
    start, end = paths[:-1], paths[1:]  # (T-1, B, d)
    keep = ~(torch.isnan(start).any(dim=2) | torch.isnan(end).any(dim=2))  # (T-1, B)
    count = int(keep.sum())
    if count == 0:
        raise ValueError("paths has no transition with both ends observed")
    steps = (t[1:] - t[:-1])[:, None].expand_as(keep)
    if isinstance(sde.drift, Autonomous) and isinstance(sde.diffusion, Autonomous):
        groups = [(t[0], start[keep], end[keep], steps[keep])]
    else:
        groups = [(t[i], start[i][keep[i]], end[i][keep[i]], steps[i][keep[i]])
                  for i in range(t.numel() - 1) if keep[i].any()]
    total = paths.new_zeros(())
    for time, x, x_next, step in groups:
        step = step[:, None]
        r = x_next - (x + sde.ito_drift(time, x) * step)
        if sde.noise == "diagonal":
            g = sde.diffusion(time, x)
            if g.shape != x.shape:
                raise ValueError(f"diagonal noise: the diffusion must return {tuple(x.shape)}; got {tuple(g.shape)}")
            var = g.pow(2) * step
            nll = 0.5 * (r.pow(2) / var + torch.log(var)).sum(dim=1)
        else:
            g = sde.diffusion_matrix(time, x)
            cov = g @ g.transpose(1, 2) * step[:, :, None]
            jitter = 1e-10 * cov.diagonal(dim1=1, dim2=2).mean(dim=1).clamp_min(1e-300)
            cov = cov + jitter[:, None, None] * torch.eye(d, dtype=x.dtype, device=x.device)
            chol = torch.linalg.cholesky(cov)
            z = torch.linalg.solve_triangular(chol, r.unsqueeze(-1), upper=False).squeeze(-1)
            nll = 0.5 * z.pow(2).sum(dim=1) + torch.log(chol.diagonal(dim1=1, dim2=2)).sum(dim=1)
        total = total + nll.sum()
    return total / count + 0.5 * d * math.log(2 * math.pi)


class SDETransitionFit(DynamicsFit):
    """Fit drift and diffusion to finely sampled paths ``(T, B, d)`` at times ``t`` ``(T,)`` by the
    Euler–Maruyama transition likelihood (see the module docstring); the loss term is ``"nll"``."""

    kind = "sde_transition_fit"
    terms = ("nll",)

    def __init__(self, sde: NeuralSDE, t: Tensor, paths: Tensor):
        _check_paths(sde, t, paths)
        super().__init__(sde)
        self.t, self.paths = t, paths
        with torch.no_grad():  # shape errors now rather than mid-fit
            x = torch.nan_to_num(paths[0])
            sde.diffusion_matrix(t[0], x)
            if sde.drift(t[0], x).shape != x.shape:
                raise ValueError(f"the drift must return the states' shape {tuple(x.shape)}")
        self.start_training()

    def losses(self) -> dict[str, Tensor]:
        return {"nll": transition_nll(self.module, self.t, self.paths)}


class SDEMomentFit(DynamicsFit):
    """Fit drift and diffusion to paths ``(T, B, d)`` at (possibly coarse) times ``t`` by matching the
    time-dependent mean and variance (see the module docstring); loss terms ``"mean"`` and ``"variance"``.

    ``samples`` model paths are drawn per loss evaluation from the observed initial states (cycled through),
    with the Brownian paths fixed by ``seed`` (common random numbers across steps).
    """

    kind = "sde_moment_fit"
    terms = ("mean", "variance")

    def __init__(self, sde: NeuralSDE, t: Tensor, paths: Tensor, *, samples: int = 256, seed: int = 0):
        _check_paths(sde, t, paths)
        if torch.isnan(paths[0]).any():
            raise ValueError("the initial states paths[0] must be complete (the model starts from them)")
        super().__init__(sde)
        self.samples = check_positive_int(samples, "samples")
        seed = check_seed(seed)
        self.t, self.seed = t, seed
        self.mean = torch.nanmean(paths, dim=1)  # (T, d)
        self.var = torch.nanmean((paths - self.mean[:, None]).pow(2), dim=1)
        self.var_scale = self.var.mean(dim=0)  # (d,)
        if not bool((self.var_scale > 0).all()):
            raise ValueError("the paths do not vary in some component: nothing to match the diffusion to")
        index = torch.arange(self.samples) % paths.shape[1]
        self.u0 = paths[0, index]
        self.start_training()

    def losses(self) -> dict[str, Tensor]:
        sim = self.module(self.u0, self.t, seed=self.seed)  # (T, S, d)
        mean, var = sim.mean(dim=1), sim.var(dim=1, unbiased=False)
        return {"mean": ((mean - self.mean).pow(2) / self.var_scale).mean(),
                "variance": ((var - self.var).pow(2) / self.var_scale.pow(2)).mean()}
