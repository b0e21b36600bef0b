"""Conditions that fix an output's free constant (the gauge), e.g. the pressure of incompressible flow.

The incompressible Navier–Stokes equations contain the pressure only through its gradient, so ``p`` is
defined up to an additive constant (a function of time in an unsteady flow). Either condition fixes it:

==================  =====================================================================================
``PointValue``      ``r = u(x0, t_k) - g(x0, t_k)`` at one spatial point ``x0``, at ``n`` times ``t_k``
                    of a space-time domain (at ``x0`` alone on a spatial domain)
``MeanValue``       ``r_k = mean_i u(x_i, t_k) - g`` over ``n`` interior points ``x_i`` of the spatial domain,
                    one residual per time level ``t_k`` (``times`` of them, evenly spaced, ends included) on a
                    space-time domain; a single residual on a spatial domain
==================  =====================================================================================

The mean is the sample mean of the points (Sobol points by default), an estimate of the domain average.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..checks import check_finite_float, check_positive_int, check_vector
from ..geometry import Geometry, SpaceTimeDomain
from .conditions import Condition
from .fields import Fields
from .values import Value, evaluate_value


class PointValue(Condition):
    """``u(x0) = g`` at one spatial point ``x0`` (at ``n`` times on a space-time domain).

    ``point`` holds the spatial coordinates (length ``d`` of the spatial domain); ``value`` is a number or a
    callable of the points (N, d) (space and time columns). On a space-time domain the times are ``n`` points
    of ``method`` in the time interval (``n`` is ignored on a spatial domain).
    """

    kind = "point"

    def __init__(self, point, value: Value = 0.0, *, output: str | None = None, n: int = 32,
                 method: str = "sobol", name: str | None = None):
        super().__init__(output, n, method, None, name)
        location = check_vector(point, "PointValue: point")
        if isinstance(value, (Tensor, np.ndarray)) and np.ndim(value) > 0:
            raise ValueError("PointValue: value must be a number or a callable of the points")
        self.location, self.value = torch.as_tensor(location), value

    def _resolve(self, domain: Geometry, outputs: tuple[str, ...]) -> None:
        super()._resolve(domain, outputs)
        space = domain.geometry if isinstance(domain, SpaceTimeDomain) else domain
        if len(self.location) != space.dim:
            raise ValueError(f"PointValue: point must have {space.dim} coordinates {space.names}; got "
                             f"{len(self.location)}")
        if not bool(space.inside(self.location[None])[0]):
            raise ValueError(f"PointValue: point {self.location.tolist()} is outside the domain {space!r}")

    def default_name(self) -> str:
        return f"point_{self.output}"

    def sample(self, domain, seed):
        if not isinstance(domain, SpaceTimeDomain):
            return self.location[None].clone()
        t = domain.time.sample_interior(self.n, self.method, seed=seed, dtype=torch.float64)
        return torch.cat([self.location.expand(len(t), -1), t], dim=1)

    def prepare(self, points):
        return {"value": evaluate_value(self.value, points, "PointValue")}

    def residual(self, f: Fields, data):
        return f.d(self.output) - data["value"]


class MeanValue(Condition):
    """``mean over the spatial domain of u = g`` (at ``times`` evenly spaced time levels on a space-time domain).

    ``n`` interior points of ``method`` estimate the mean (the same points at every time level); ``value`` is a
    number.
    """

    kind = "mean"
    rows = "whole"

    def __init__(self, value: float = 0.0, *, output: str | None = None, n: int = 1024, times: int = 11,
                 method: str = "sobol", name: str | None = None):
        super().__init__(output, n, method, None, name)
        self.value = check_finite_float(value, "MeanValue: value")
        self.times = check_positive_int(times, "MeanValue: times")

    def default_name(self) -> str:
        return f"mean_{self.output}"

    def _levels(self, domain: Geometry) -> int:
        return self.times if isinstance(domain, SpaceTimeDomain) else 1

    def sample(self, domain, seed):
        if not isinstance(domain, SpaceTimeDomain):
            return domain.sample_interior(self.n, self.method, seed=seed, dtype=torch.float64)
        space = domain.geometry.sample_interior(self.n, self.method, seed=seed, dtype=torch.float64)
        time = domain.time
        levels = torch.linspace(time.t0, time.t1, self.times, dtype=torch.float64)
        return torch.cat([space.repeat(self.times, 1), levels.repeat_interleave(self.n)[:, None]], dim=1)

    def residual(self, f: Fields, data):
        return f.d(self.output).reshape(-1, self.n).mean(dim=1) - self.value
