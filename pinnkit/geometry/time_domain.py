"""The time interval of a space-time problem."""

from __future__ import annotations

from ..checks import check_finite_float
from .hypercube import Interval


class TimeDomain(Interval):
    """The time interval ``[t0, t1]``, coordinate ``t``. ``geometry * TimeDomain(t0, t1)`` makes a
    :class:`~pinnkit.geometry.SpaceTimeDomain` with time as its last coordinate."""

    _bound_names = ("t0", "t1")

    def __init__(self, t0: float, t1: float, *, name: str = "t"):
        t0, t1 = check_finite_float(t0, "t0"), check_finite_float(t1, "t1")
        if not t0 < t1:
            raise ValueError(f"TimeDomain needs t0 < t1 (positive duration); got t0={t0}, t1={t1}")
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"name must be an identifier (the time coordinate's name); got {name!r}")
        super().__init__(t0, t1, names=(name,))
        self.t0, self.t1 = self.a, self.b

    def __repr__(self) -> str:
        return f"TimeDomain({self.t0}, {self.t1})"
