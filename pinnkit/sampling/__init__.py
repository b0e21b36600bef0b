"""Collocation samplers: a sampler owns the PDE points, hands out ``(points, weights)`` each step, and
receives the detached residuals back. :class:`FixedPoints` is the classic setting; adaptive samplers (R3,
Causal R3, causal time weighting, RAR-D) build on :class:`Sampler`."""

from .r3 import R3, CausalR3
from .residual_density import RAD, RARD, residual_density
from .sampler import FixedPoints, PointPool, Sampler

__all__ = ["RAD", "RARD", "CausalR3", "FixedPoints", "PointPool", "R3", "Sampler", "residual_density"]
