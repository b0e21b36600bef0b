"""Space-time domains ``geometry * TimeDomain(t0, t1)``; time is the last coordinate."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from .geometry import Geometry
from .patch import BoundaryPatch, Mask
from .time_domain import TimeDomain
from .unit_samples import ORDERED_METHODS, Seed, check_count, check_method, make_rng


class SpaceTimeDomain(Geometry):
    """The cylinder ``G x [t0, t1]`` of a spatial geometry ``G`` and a time interval.

    For PDE conditions its parts have their usual meanings:

    * ``boundary`` is the *lateral* boundary ``dG x [t0, t1]`` (where boundary conditions hold): ``on_boundary``,
      ``boundary_normal`` (the spatial normal, time component 0), ``sample_boundary``, and the distances
      ``signed_distance`` / ``approx_distance`` all refer to it;
    * the initial slice ``G x {t0}`` has its own ``on_initial`` and ``sample_initial``;
    * ``inside`` is membership of the closed cylinder.
    """

    def __init__(self, geometry: Geometry, time: TimeDomain):
        if not isinstance(geometry, Geometry) or isinstance(geometry, SpaceTimeDomain):
            raise TypeError(f"geometry must be a spatial Geometry; got {type(geometry).__name__}")
        if not isinstance(time, TimeDomain):
            raise TypeError(f"time must be a TimeDomain; got {type(time).__name__}")
        names = geometry.names + time.names
        if len(set(names)) != len(names):
            raise ValueError(f"the time coordinate name {time.names[0]!r} is already a spatial coordinate of "
                             f"{geometry!r}")
        self.geometry, self.time = geometry, time
        super().__init__(geometry.dim + 1, names, torch.cat([geometry.bbox, time.bbox], dim=1))

    def __repr__(self) -> str:
        return f"{self.geometry!r} * {self.time!r}"

    @property
    def duration(self) -> float:
        return self.time.t1 - self.time.t0

    @property
    def measure(self) -> float | None:
        m = self.geometry.measure
        return None if m is None else m * self.duration

    @property
    def log_measure(self) -> float | None:
        m = self.geometry.log_measure
        return None if m is None else m + math.log(self.duration)

    @property
    def _random_interior(self):
        space = self.geometry._random_interior
        if space is None:
            return None

        def sample(n: int, rng: np.random.Generator) -> Tensor | None:
            x = space(n, rng)
            return None if x is None else torch.cat([x, self._random_times(n, rng)], dim=1)

        return sample

    @property
    def _random_boundary(self):
        space = self.geometry._random_boundary
        if space is None:
            return None

        def sample(n: int, rng: np.random.Generator, faces: tuple[str, ...] | None) -> Tensor | None:
            x = space(n, rng, faces)
            return None if x is None else torch.cat([x, self._random_times(n, rng)], dim=1)

        return sample

    def _random_times(self, n: int, rng: np.random.Generator) -> Tensor:
        """Uniform times (n, 1) in ``[t0, t1)``."""
        return self.time.t0 + self.duration * torch.from_numpy(rng.random((n, 1)))

    def _periodic_axes(self) -> tuple[int, ...]:
        return self.geometry._periodic_axes()

    def _faces(self) -> dict[str, tuple[int, float]]:
        return self.geometry._faces()

    def _face_aliases(self) -> dict[str, str]:
        return self.geometry._face_aliases()

    def _in_time(self, t: Tensor, tol: float) -> Mask:
        return (t >= self.time.t0 - tol) & (t <= self.time.t1 + tol)

    def _classify(self, x: Tensor, tol: float) -> tuple[Mask, Mask, Tensor]:
        interior, boundary, normal = self.geometry._classify(x[:, :-1], tol)
        in_time = self._in_time(x[:, -1], tol)
        boundary = boundary & in_time
        normal = torch.cat([normal * boundary[:, None], torch.zeros_like(x[:, -1:])], dim=1)
        return interior & in_time, boundary, normal

    def _sdf(self, x: Tensor) -> Tensor:
        return self.geometry._sdf(x[:, :-1])

    def _adf(self, x: Tensor) -> Tensor:
        return self.geometry._adf(x[:, :-1])

    @property
    def _interior_map(self):
        space_map = self.geometry._interior_map
        if space_map is None:
            return None
        return lambda u: torch.cat([space_map(u[:, :-1]), self.time.t0 + self.duration * u[:, -1:]], dim=1)

    def _boundary_patches(self) -> list[BoundaryPatch]:
        t0, duration = self.time.t0, self.duration

        def lift(p: BoundaryPatch) -> BoundaryPatch:
            def to_points(u: Tensor) -> Tensor:
                return torch.cat([p.to_points(u[:, :-1]), t0 + duration * u[:, -1:]], dim=1)

            keep = None if p.keep is None else (lambda x: p.keep(x[:, :-1]))
            extent = None if p.extent is None else p.extent + (duration,)
            if p.dim == 0:
                extent = (duration,)
            log_measure = None if p.log_measure is None else p.log_measure + math.log(duration)
            return BoundaryPatch(p.measure * duration, p.dim + 1, to_points, keep, extent, p.label, log_measure)

        return [lift(p) for p in self.geometry._boundary_patches()]

    def on_initial(self, x) -> Mask:
        """``(N,)`` bool: is each point on the initial slice ``G x {t0}`` (spatially in the closed ``G``)?"""
        x = self._check_points(x)
        tol = self.tol(x.dtype)
        interior, boundary, _ = self.geometry._classify(x[:, :-1], tol)
        return (interior | boundary) & ((x[:, -1] - self.time.t0).abs() <= tol)

    def sample_initial(self, n: int, method: str = "sobol", *, seed: Seed = None,
                       dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> Tensor:
        """Exactly ``n`` distinct points ``(x, t0)`` with ``x`` in the open interior of ``G``, shape ``(n, d)``."""
        n, method, rng = check_count(n), check_method(method), make_rng(seed)

        def initial_points(k: int, method: str) -> Tensor:
            space = self.geometry._interior_points(k, method, rng)
            return torch.cat([space, torch.full((k, 1), self.time.t0, dtype=torch.float64)], dim=1)

        redraw_method = "random" if method in ORDERED_METHODS else method
        return self._finish(initial_points(n, method), dtype, device, lambda k: initial_points(k, redraw_method),
                            f"initial points of {self!r}")
