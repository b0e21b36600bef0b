"""Samplers by name, for command lines and configuration files."""

from __future__ import annotations

from collections.abc import Callable

from ..checks import check_choice
from .r3 import R3, CausalR3
from .residual_density import RAD, RARD
from .sampler import FixedPoints, Resample, Sampler

#: name -> ``n -> Sampler`` with the method's defaults (causal time weighting is a weighting, not a sampler:
#: :class:`pinnkit.weighting.CausalWeighting`).
SAMPLERS: dict[str, Callable[[int], Sampler]] = {
    "fixed": lambda n: FixedPoints(n, "sobol"),
    "resample": lambda n: Resample(n, every=1),
    "r3": R3,
    "causal_r3": CausalR3,
    "rad": RAD,
    "rard": RARD,
}


def sampler(name: str, n: int) -> Sampler:
    """The sampler ``name`` (a key of :data:`SAMPLERS`) with ``n`` collocation points."""
    return SAMPLERS[check_choice(name, "sampler", sorted(SAMPLERS))](n)
