"""The time interval of a space-time problem."""

from __future__ import annotations

from .hypercube import Interval


class TimeDomain(Interval):
    """The time interval ``[t0, t1]``, coordinate ``t``. ``geometry * TimeDomain(t0, t1)`` makes a
    :class:`~pinnkit.geometry.SpaceTimeDomain` with time as its last coordinate."""

    def __init__(self, t0: float, t1: float, *, name: str = "t"):
        super().__init__(t0, t1, names=(name,))
        self.t0, self.t1 = self.a, self.b

    def __repr__(self) -> str:
        return f"TimeDomain({self.t0}, {self.t1})"
