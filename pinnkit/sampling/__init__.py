"""Collocation samplers: a sampler owns the PDE points, hands out ``(points, weights)`` each step, and
receives the detached residuals back. :class:`FixedPoints` is the classic setting; adaptive samplers (R3,
Causal R3, causal time weighting, RAR-D) build on :class:`Sampler`."""

from .by_name import SAMPLERS, sampler
from .causal_weighting import CausalWeighting, causal_weights
from .r3 import R3, CausalR3
from .residual_density import RAD, RARD, residual_density
from .sampler import FixedPoints, Period, PointPool, Resample, Sampler

__all__ = ["RAD", "RARD", "SAMPLERS", "CausalR3", "CausalWeighting", "FixedPoints", "Period", "PointPool", "R3",
           "Resample", "Sampler", "causal_weights", "residual_density", "sampler"]
