"""Collocation samplers: a sampler owns the PDE points, hands them out each step, and receives the detached
residuals back. :class:`FixedPoints` is the classic setting; adaptive samplers (R3, Causal R3, RAD, RAR-D)
build on :class:`Sampler`; :class:`GivenPoints` takes the user's points, alone or added to another sampler's
(DeepXDE's ``anchors=``). Loss weights are a separate concern (:mod:`pinnkit.weighting`)."""

from .by_name import SAMPLERS, sampler
from .given import GivenPoints
from .r3 import R3, CausalGate, CausalR3
from .residual_density import RAD, RARD, residual_density
from .sampler import FixedPoints, Period, PointPool, Resample, Sampler

__all__ = ["RAD", "RARD", "SAMPLERS", "CausalGate", "CausalR3", "FixedPoints", "GivenPoints", "Period", "PointPool",
           "R3", "Resample", "Sampler", "residual_density", "sampler"]
