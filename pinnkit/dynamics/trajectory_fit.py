"""Fitting an ODE model to observed trajectories: single or multiple shooting, missing values allowed.

Data: observation times ``t`` ``(T,)`` and values ``y`` ``(T, d)`` (one trajectory) or ``(T, B, d)`` (``B``
trajectories observed at the same times; trajectories seen at different times are put on the union of the
times with the unseen entries missing). A missing value is ``NaN`` and simply leaves the loss.

Single shooting (default) solves from the initial state over the whole horizon and minimises

    L_data = Σ_{observed (i, b, k)} ((u_bk(t_i) - y_ibk) / s_k)² / (number observed),

``s_k`` a per-component scale (1, or the standard deviation of the observed values of component ``k``).

Multiple shooting (``shooting=K``, Bock & Plitt 1984) cuts the times into ``K`` segments
``[t_{b_j}, t_{b_{j+1}}]`` that share their end points. Segment ``j > 0`` starts from its own trainable state
``s_j`` (initialised from the data), so each solve covers a short span: long horizons no longer have to be
fitted all at once, and a poor model cannot drift far from the data. The loss adds the mismatch at the joints

    L_continuity = w Σ_j ‖(u_j(t_{b_{j+1}}) - s_{j+1}) / s‖² / (number of joint values),

which drives the segments to one continuous trajectory. :meth:`TrajectoryFit.predict` always solves the
single trajectory from the initial state.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..checks import check_choice, check_non_negative_float, check_positive_int
from .fit import DynamicsFit
from .neural_ode import NeuralODE
from .universal_ode import UniversalODE


class TrajectoryFit(DynamicsFit):
    """Fit a :class:`NeuralODE` (its field's parameters, physical parameters included) to observed trajectories.

    Parameters
    ----------
    model : NeuralODE
    t : tensor ``(T,)``
        Strictly increasing observation times; ``t[0]`` is the time of the initial state.
    observations : tensor ``(T, d)`` or ``(T, B, d)``
        Observed values, ``NaN`` where missing.
    u0 : tensor ``(d,)`` or ``(B, d)``, optional
        Initial state(s) at ``t[0]``; default the first observation (which must then be complete).
    learn_u0 : bool
        Train the initial state too (it starts from ``u0``); useful when the first observation is noisy.
    shooting : int, optional
        Number of multiple-shooting segments (``None`` or 1: single shooting). Each segment must span at least
        two observation times.
    continuity_weight : float
        ``w`` of the joint mismatch (multiple shooting).
    scale : ``"none"`` or ``"std"``
        Divide the residuals of each component by 1 or by the standard deviation of its observations.
    """

    kind = "trajectory_fit"

    def __init__(self, model: NeuralODE, t: Tensor, observations: Tensor, *, u0: Tensor | None = None,
                 learn_u0: bool = False, shooting: int | None = None, continuity_weight: float = 1.0,
                 scale: str = "none"):
        if not isinstance(model, NeuralODE):
            raise ValueError(f"model must be a pinnkit.dynamics.NeuralODE; got {type(model).__name__}")
        super().__init__(model)
        if not isinstance(t, Tensor) or t.ndim != 1 or t.numel() < 2:
            raise ValueError(f"t must be a 1-D tensor of at least two times; got "
                             f"{tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__}")
        if not bool((t[1:] > t[:-1]).all()):
            raise ValueError("t must be strictly increasing")
        if not isinstance(observations, Tensor) or observations.ndim not in (2, 3) \
                or observations.shape[0] != t.numel():
            raise ValueError(f"observations must be a tensor (T, d) or (T, B, d) with T = len(t) = {t.numel()}; "
                             f"got {tuple(observations.shape) if isinstance(observations, Tensor) else observations}")
        if observations.dtype != t.dtype:
            raise ValueError(f"t and observations must have the same dtype; got {t.dtype} and {observations.dtype}")
        self.single = observations.ndim == 2
        y = observations.unsqueeze(1) if self.single else observations  # (T, B, d)
        self.mask = ~torch.isnan(y)
        if not self.mask.any():
            raise ValueError("observations has no observed (non-NaN) value")
        self.t, self.y = t, torch.nan_to_num(y)
        if u0 is None:
            if not self.mask[0].all():
                raise ValueError("the first observation has missing values: pass u0 explicitly")
            u0 = y[0].clone()
        else:
            if not isinstance(u0, Tensor):
                raise ValueError(f"u0 must be a tensor; got {type(u0).__name__}")
            u0 = (u0.unsqueeze(0) if u0.ndim == 1 else u0).detach().clone().to(y.dtype)
            if u0.shape != y.shape[1:]:
                raise ValueError(f"u0 must have shape {tuple(y.shape[2:]) if self.single else tuple(y.shape[1:])}; "
                                 f"got {tuple(u0.shape)}")
        if learn_u0:
            self.extra["u0"] = u0.requires_grad_(True)
        self._u0 = u0
        scale = check_choice(scale, "scale", ("none", "std"))
        if scale == "std":
            flat = y.reshape(-1, y.shape[-1])
            stds = [float(np.nanstd(flat[:, k].numpy(force=True))) for k in range(flat.shape[1])]
            if not all(s > 0 for s in stds):
                raise ValueError("scale='std' needs observations that vary in every component")
            self.scale = torch.tensor(stds, dtype=y.dtype)
        else:
            self.scale = torch.ones(y.shape[-1], dtype=y.dtype)
        self.continuity_weight = check_non_negative_float(continuity_weight, "continuity_weight")
        segments = 1 if shooting is None else check_positive_int(shooting, "shooting")
        if segments > t.numel() - 1:
            raise ValueError(f"shooting={segments} segments need at least {segments + 1} observation times; "
                             f"there are {t.numel()}")
        self.bounds = [int(round(j * (t.numel() - 1) / segments)) for j in range(segments + 1)]
        for j in range(1, segments):
            self.extra[f"shooting_{j}"] = self._initial_guess(y, self.bounds[j]).requires_grad_(True)
        self.terms = ("data", "continuity") if segments > 1 else ("data",)
        self.start_training()

    def _initial_guess(self, y: Tensor, index: int) -> Tensor:
        """The data at ``t[index]``, missing entries linearly interpolated in time (``(B, d)``)."""
        t = self.t.numpy(force=True)
        out = torch.empty_like(y[index])
        for b in range(y.shape[1]):
            for k in range(y.shape[2]):
                seen = self.mask[:, b, k].numpy(force=True)
                values = y[:, b, k].numpy(force=True)
                out[b, k] = float(np.interp(t[index], t[seen], values[seen])) if seen.any() else 0.0
        return out

    @property
    def u0(self) -> Tensor:
        """The initial state(s) ``(B, d)`` (trained if ``learn_u0``)."""
        return self.extra.get("u0", self._u0)

    def parameter_values(self) -> dict[str, float]:
        field = self.module.field
        return field.parameter_values if isinstance(field, UniversalODE) else {}

    def losses(self) -> dict[str, Tensor]:
        """``{"data": L_data}`` and, with multiple shooting, ``{"continuity": L_continuity}``."""
        scale = self.scale.to(self.y.device)
        sq_sum, count = 0.0, 0
        joints = []
        for j, (a, b) in enumerate(zip(self.bounds[:-1], self.bounds[1:], strict=True)):
            start = self.u0 if j == 0 else self.extra[f"shooting_{j}"]
            pred = self.module(start, self.t[a:b + 1])  # (n, B, d)
            last = j == len(self.bounds) - 2
            stop = b + 1 if last else b  # each time counted once: the joint belongs to the next segment
            res = (pred[:stop - a] - self.y[a:stop]) / scale
            m = self.mask[a:stop]
            sq_sum = sq_sum + (res[m] ** 2).sum()
            count += int(m.sum())
            if not last:
                joints.append((pred[-1] - self.extra[f"shooting_{j + 1}"]) / scale)
        terms = {"data": sq_sum / max(count, 1)}
        if joints:
            terms["continuity"] = self.continuity_weight * torch.stack(joints).pow(2).mean()
        return terms

    def predict(self, t: Tensor | None = None) -> Tensor:
        """The model's trajectory from the initial state at ``t`` (default the observation times; ``t[0]`` must
        be the initial time), without gradients: ``(T, d)`` for one trajectory, ``(T, B, d)`` for several."""
        t = self.t if t is None else t
        if not isinstance(t, Tensor) or t.ndim != 1 or t.numel() < 2 or float(t[0]) != float(self.t[0]):
            raise ValueError(f"t must be a 1-D tensor of times starting at the initial time {float(self.t[0])}")
        with torch.no_grad():
            out = self.module(self.u0.detach(), t)
        return out[:, 0] if self.single else out
