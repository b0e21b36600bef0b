"""The abstract :class:`Geometry`: membership, boundary normals, distances and point sampling.

Conventions shared by every geometry
------------------------------------
* Points are ``(N, d)`` tensors; coordinates are named (``geometry.names``), e.g. ``("x", "y")``.
* ``inside(x)`` is membership of the *closed* domain: interior or boundary.
* ``on_boundary(x)`` tests ``|distance to the boundary| <= tol`` with ``tol = 64 eps(dtype) * scale``, where
  ``scale`` is the larger of the largest absolute bounding-box coordinate and the largest side: a few
  rounding errors of the coordinates.
* ``boundary_normal(x)`` is the unit outward normal on the boundary and ``0`` off it. Where several smooth
  pieces meet (corners, edges, CSG seams) the normal is the normalised sum of the outward normals of the
  pieces that meet there, e.g. ``(1, 1) / sqrt(2)`` at the corner ``(1, 1)`` of the unit square.
* ``signed_distance(x)`` is negative inside, zero on the boundary, positive outside; exact for primitives.
* ``approx_distance(x)`` is a smooth approximate distance function (ADF, Sukumar & Srivastava 2022): positive
  inside, zero on the boundary, negative outside, with unit normal derivative on smooth parts of the boundary.
  It is built from differentiable torch operations, so ``u = g + approx_distance(x) * N(x)`` imposes
  ``u = g`` on the boundary exactly ("hard constraints") and can be differentiated any number of times away
  from corners.
* Samplers return exactly ``n`` distinct points as a tensor of the requested dtype and device; the maths is
  done in float64 on the CPU first. Interior points lie in the open interior. Boundary points are spread
  uniformly by length / area over the boundary (stratified over its smooth pieces).
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from ..checks import check_device, check_dtype
from .patch import BoundaryPatch, Mask, finite_points, patch_weights
from .rejection import (
    CANDIDATES_PER_POINT,
    MIN_ESTIMATE,
    MIN_ESTIMATE_COUNT,
    PROBE,
    PROBE_CHUNK,
    ROUND_CANDIDATES,
    ROUNDS,
    check_budget,
    first_rows,
    largest_remainder,
    probe_acceptance,
    room,
    top_up_method,
)
from .unit_samples import DIRECT_RANDOM_DIM, Seed, check_count, check_method, make_rng, select, unit_samples


class Geometry(abc.ABC):
    """A closed domain in R^d with named coordinates. Points in and out are ``(N, d)`` tensors, masks and distances
    ``(N,)``. Subclasses implement the underscored hooks."""

    def __init__(self, dim: int, names: tuple[str, ...], bbox: Tensor):
        self.dim = dim
        self.names = names
        self._bbox = bbox.to(torch.float64)

    # ------------------------------------------------------------------ hooks for subclasses
    @abc.abstractmethod
    def _classify(self, x: Tensor, tol: float) -> tuple[Mask, Mask, Tensor]:
        """``(interior, boundary, normal)`` for points ``x`` (N, d): open-interior mask, boundary mask, and the
        unit outward normal on boundary points (zero rows elsewhere)."""

    @abc.abstractmethod
    def _sdf(self, x: Tensor) -> Tensor:
        """Signed distance (N,), negative inside."""

    @abc.abstractmethod
    def _adf(self, x: Tensor) -> Tensor:
        """Smooth approximate distance (N,), positive inside."""

    @abc.abstractmethod
    def _boundary_patches(self) -> list[BoundaryPatch]:
        """The boundary as parametrised pieces (see :class:`BoundaryPatch`)."""

    # Optional measure-preserving map ``u (m, d) in (0, 1)^d -> points (m, d)`` onto the interior, as a method of
    # subclasses that have one; ``None`` means interior points are found by rejection from the bounding box.
    _interior_map: Callable[[Tensor], Tensor] | None = None

    # Optional direct samplers for method "random" (``None``: through the unit cube as for the other methods), for
    # high-dimensional domains whose unit-cube maps cost more than O(n d): ``_random_interior(n, rng)`` gives
    # (n, d) float64 interior points, ``_random_boundary(n, rng, faces)`` (n, d) boundary points, uniform by
    # measure, on the named ``faces`` (``None``: the whole boundary); either may return ``None`` to decline
    # (e.g. in low dimensions, where the unit-cube path is kept so seeded samples stay as they were).
    _random_interior: Callable[[int, np.random.Generator], Tensor | None] | None = None
    _random_boundary: Callable[[int, np.random.Generator, tuple[str, ...] | None], Tensor | None] | None = None

    def _leaves(self) -> list[Geometry]:
        """The primitives a CSG tree is built from (a primitive is its own only leaf)."""
        return [self]

    def _faces(self) -> dict[str, tuple[int, float]]:
        """Named flat faces: label -> (axis, coordinate value), e.g. ``{"x_min": (0, -1.0), ...}``."""
        return {}

    def _face_aliases(self) -> dict[str, str]:
        """Friendly names of faces, e.g. ``{"left": "x_min"}``."""
        return {}

    @property
    def boundary(self):
        """The whole boundary as a :class:`~pinnkit.geometry.Boundary`; call it to select a part:
        ``rect.boundary("left")``, ``rect.boundary("x_max")``, ``disk.boundary(lambda x: x[:, 1] > 0)``."""
        from .boundary import Boundary
        return Boundary(self)

    def _periodic_axes(self) -> tuple[int, ...]:
        """Axes along which the domain is bounded by two flat opposite faces (``x = min`` and ``x = max``)."""
        return ()

    @property
    def measure(self) -> float | None:
        """Exact length / area / volume, or ``None`` where it has no closed form (see ``estimate_measure``)."""
        return None

    @property
    def boundary_measure(self) -> float | None:
        """Exact perimeter / surface area (number of points in 1-D), or ``None`` where only part of each
        boundary piece belongs to the boundary (CSG)."""
        patches = self._boundary_patches()
        return None if any(p.keep is not None for p in patches) else float(sum(p.measure for p in patches))

    @property
    def log_measure(self) -> float | None:
        """``log(measure)``, exact where ``measure`` under- or overflows float64 (high-dimensional balls and
        boxes override it); ``None`` where there is no closed form."""
        m = self.measure
        return None if m is None else (math.log(m) if m > 0 else -math.inf)

    @property
    def log_boundary_measure(self) -> float | None:
        """``log(boundary_measure)``, exact where ``boundary_measure`` under- or overflows float64 (see
        ``log_measure``); ``None`` where ``boundary_measure`` is."""
        m = self.boundary_measure
        return None if m is None else (math.log(m) if m > 0 else -math.inf)

    # ------------------------------------------------------------------ public queries
    @property
    def bbox(self) -> Tensor:
        """Bounding box as a float64 tensor of shape ``(2, d)``: row 0 the lower, row 1 the upper corner."""
        return self._bbox.clone()

    def tol(self, dtype: torch.dtype = torch.float64) -> float:
        """Boundary tolerance for points of ``dtype``: ``64 eps(dtype) * max(max|bbox|, largest side)``."""
        scale = max(float(self._bbox.abs().max()), float((self._bbox[1] - self._bbox[0]).max()))
        return 64.0 * torch.finfo(dtype).eps * scale

    def inside(self, x) -> Mask:
        """``(N,)`` bool: is each point of ``x`` (N, d) in the closed domain?"""
        x = self._check_points(x)
        interior, boundary, _ = self._classify(x, self.tol(x.dtype))
        return interior | boundary

    def on_boundary(self, x) -> Mask:
        """``(N,)`` bool: is each point of ``x`` (N, d) on the boundary (within ``tol``)?"""
        x = self._check_points(x)
        return self._classify(x, self.tol(x.dtype))[1]

    def boundary_normal(self, x) -> Tensor:
        """``(N, d)`` unit outward normals at boundary points of ``x``; zero rows for points off the boundary.

        At corners and seams the normal is the normalised sum of the normals of the pieces that meet there.
        """
        x = self._check_points(x)
        return self._classify(x, self.tol(x.dtype))[2]

    def signed_distance(self, x) -> Tensor:
        """``(N,)`` signed distance to the boundary: negative inside, positive outside.

        Exact for primitives. For CSG it is the min / max composition, exact outside a union and a bound
        (same sign, never larger in magnitude than the true distance) elsewhere.
        """
        return self._sdf(self._check_points(x))

    def approx_distance(self, x) -> Tensor:
        """``(N,)`` smooth approximate distance function, positive inside, zero on the boundary.

        Normalised to first order: its gradient is the inward unit normal on smooth parts of the boundary.
        Differentiable with autograd (not at corners, where two pieces meet at zero distance).
        """
        return self._adf(self._check_points(x))

    def estimate_measure(self, n: int = 2**16, seed: int = 0) -> float:
        """Quasi-Monte Carlo estimate of the length / area / volume: bbox volume times the fraction of ``n``
        scrambled Sobol' points of the bbox that are inside."""
        n = check_count(n)
        lo, hi = self._bbox
        u = torch.from_numpy(unit_samples(n, self.dim, "sobol", make_rng(seed)))
        inside = self.inside(lo + u * (hi - lo))
        return float(torch.prod(hi - lo)) * float(inside.double().mean())

    # ------------------------------------------------------------------ sampling
    def sample_interior(self, n: int, method: str = "sobol", *, seed: Seed = None,
                        dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> Tensor:
        """Exactly ``n`` distinct points of the open interior, shape ``(n, d)``.

        ``method``: ``"uniform"`` (grid-like), ``"random"``, ``"lhs"``, ``"sobol"``, ``"halton"`` or
        ``"hammersley"`` (see :mod:`pinnkit.geometry.unit_samples`). Domains with a measure-preserving map
        from the unit cube (boxes, balls, ellipses) use it; others keep the points of a bounding-box sample
        that fall inside (for ``"uniform"`` always: a Cartesian grid restricted to the domain). ``seed`` (int
        or generator) makes the result reproducible; ``dtype`` defaults to torch's default dtype.
        """
        n, method, rng = check_count(n), check_method(method), make_rng(seed)
        x = self._interior_points(n, method, rng)
        return self._finish(x, dtype, device, lambda k: self._interior_points(k, top_up_method(method), rng),
                            f"interior points of {self!r}")

    def sample_boundary(self, n: int, method: str = "sobol", *, seed: Seed = None,
                        dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> Tensor:
        """Exactly ``n`` distinct boundary points, shape ``(n, d)``, uniform by length / area.

        Points are shared among the boundary's smooth pieces in proportion to their measure (largest
        remainder), and each piece is sampled with ``method`` in its own parameters. A 1-D domain has a finite
        boundary; there ``n`` may not exceed the number of boundary points.
        """
        n, method, rng = check_count(n), check_method(method), make_rng(seed)
        x = self._boundary_points(n, method, rng)
        return self._finish(x, dtype, device, lambda k: self._boundary_points(k, top_up_method(method), rng),
                            f"boundary points of {self!r}")

    def sample_periodic_pairs(self, n: int, coordinate: str | int, method: str = "sobol", *, seed: Seed = None,
                              dtype: torch.dtype | None = None, device: torch.device | str | None = None
                              ) -> tuple[Tensor, Tensor]:
        """Matched points on the two faces ``coordinate = min`` and ``coordinate = max``, for periodic conditions.

        Returns ``(low, high)``, each ``(n, d)``: row ``i`` of both has the same other coordinates, sampled on
        the face with ``method``. Needs a domain with two flat opposite faces along ``coordinate`` (a box, or
        a box times a time interval). A 1-D interval has one pair: ``n = 1``.
        """
        n, method = check_count(n), check_method(method)
        axis = self._axis(coordinate)
        if axis not in self._periodic_axes():
            raise ValueError(f"coordinate {self.names[axis]!r} of {self!r} is not bounded by two flat opposite "
                             "faces; periodic pairs need a box (Interval, Rectangle, Cuboid, Hypercube), possibly "
                             "times a TimeDomain")
        lo, hi = self._bbox
        others = [i for i in range(self.dim) if i != axis]
        if not others and n != 1:
            raise ValueError(f"n must be 1 for a 1-D domain (its faces are single points); got n={n}")
        rng = make_rng(seed)

        def face_points(k: int, method: str) -> Tensor:
            u = torch.from_numpy(unit_samples(k, len(others), method, rng, aspect=(hi - lo)[others].numpy()))
            low = torch.empty(k, self.dim, dtype=torch.float64)
            low[:, others] = lo[others] + u * (hi - lo)[others]
            low[:, axis] = lo[axis]
            return low

        low = self._finish(face_points(n, method), dtype, device,
                           (lambda k: face_points(k, top_up_method(method))) if others else None,
                           f"points of the face {self.names[axis]} = {float(lo[axis])} of {self!r}")
        high = low.clone()  # the same rows with the other end: distinct where low's rows are
        high[:, axis] = float(hi[axis])
        return low, high

    def _axis(self, coordinate: str | int) -> int:
        if isinstance(coordinate, str):
            if coordinate not in self.names:
                raise ValueError(f"coordinate must be one of {self.names}; got {coordinate!r}")
            return self.names.index(coordinate)
        if isinstance(coordinate, (int, np.integer)) and not isinstance(coordinate, bool) \
                and 0 <= coordinate < self.dim:
            return int(coordinate)
        raise ValueError(f"coordinate must be a name in {self.names} or an index below {self.dim}; "
                         f"got {coordinate!r}")

    def _interior_points(self, n: int, method: str, rng: np.random.Generator) -> Tensor:
        """Float64 interior points (n, d) on the CPU."""
        if method == "random" and self._random_interior is not None:
            x = self._random_interior(n, rng)
            if x is not None:
                return x
        if method != "uniform" and self._interior_map is not None:
            return self._interior_map(torch.from_numpy(unit_samples(n, self.dim, method, rng)))
        return self._rejection_sample(n, method, rng)

    def _rejection_sample(self, n: int, method: str, rng: np.random.Generator) -> Tensor:
        lo, hi = self._bbox
        sides = (hi - lo).numpy()
        tol = self.tol(torch.float64)
        accept = self._acceptance_estimate()
        # too small to trust 4096 points: measure it, chunk by chunk, or refuse; not where the exact acceptance of a
        # high-dimensional domain is known (a ball in d = 1000: 0.0), whose probe of 2^20 d-vectors would be GBs
        if accept < MIN_ESTIMATE and (self.log_measure is None or self.dim < DIRECT_RANDOM_DIM):
            accept = probe_acceptance(lambda u: self._classify(lo + u * (hi - lo), tol)[0], self.dim,
                                            f"{self!r}", "interior")
        grid = method == "uniform"  # a grid is kept as small as possible: a box gets an exact k1 x ... x kd grid
        margin, extra = ((1.0 if accept == 1.0 else 1.02), 0) if grid else (1.1, 16)
        m = int(math.ceil(min(n / max(accept, 1e-300) * margin, 1e300))) + extra  # accept: 0 where it underflows
        budget = max(ROUND_CANDIDATES, CANDIDATES_PER_POINT * n)
        for _ in range(ROUNDS):
            check_budget(m, budget, n, accept, f"interior points of {self!r}")
            u = torch.from_numpy(unit_samples(m, self.dim, method, rng, aspect=sides, exact=not grid))
            x = lo + u * (hi - lo)
            x = x[self._classify(x, tol)[0]]
            if len(x) >= n:
                return select(x, n, method)
            drawn, accept = len(u), max(len(x), 1) / len(u)
            m = max(m + 1, int(math.ceil(m * n / max(len(x), 1) * (1.01 if grid else 1.2))) + extra)
        raise ValueError(f"could not find {n} interior points of {self!r} in {ROUNDS} rounds of rejection "
                         f"sampling (last round: {len(x)} of {drawn} candidates inside): its interior seems empty "
                         "or too thin; ask for fewer points or use a larger domain")

    def _acceptance_estimate(self) -> float:
        """Fraction of the bounding box inside the domain: exact, from the logs of the measures, where the measure
        is known (so a ball in d = 1000, whose volume and box volume over- or underflow, gets its ``1e-1700`` as
        ``0.0``), else estimated from 4096 points."""
        box, vol = float(torch.prod(self._bbox[1] - self._bbox[0])), self.measure
        if vol is None:
            ratio = self.estimate_measure(4096) / box
        elif 0 < vol < math.inf and 0 < box < math.inf:
            ratio = vol / box
        else:
            ratio = math.exp(min(self.log_measure - float(torch.log(self._bbox[1] - self._bbox[0]).sum()), 0.0))
        return min(1.0, max(ratio, 1e-4)) if ratio >= MIN_ESTIMATE else ratio

    def _boundary_points(self, n: int, method: str, rng: np.random.Generator,
                         patches: list[BoundaryPatch] | None = None, what: str | None = None) -> Tensor:
        """Float64 boundary points (n, d) on the CPU, from ``patches`` (default: the whole boundary); ``what``
        names the selection in errors."""
        what = f"the boundary of {self!r}" if what is None else what
        if patches is None and method == "random" and self._random_boundary is not None:
            x = self._random_boundary(n, rng, None)
            if x is not None:
                return x
        patches = self._boundary_patches() if patches is None else patches
        if not patches:
            raise ValueError(f"no boundary piece of {self!r} is selected")
        if all(p.dim == 0 for p in patches):
            return self._finite_boundary(patches, n, method, rng)
        filtered = any(p.keep is not None for p in patches)
        m = int(math.ceil(1.25 * n)) + 8 if filtered else n
        budget = max(ROUND_CANDIDATES, CANDIDATES_PER_POINT * n)
        accept, probed = 1.0, False
        for _ in range(ROUNDS):
            check_budget(m, budget, n, accept, f"points of {what}")
            kept = []
            for p, c in zip(patches, largest_remainder(m, patch_weights(patches)), strict=True):
                if c == 0:  # most of the 2d faces of a box in high d get no point: skip their O(d) maps
                    kept.append(torch.zeros(0, self.dim, dtype=torch.float64))
                    continue
                x = p.to_points(torch.from_numpy(unit_samples(c, p.dim, method, rng, aspect=p.extent)))
                kept.append(x if p.keep is None else x[p.keep(x)])
            total = sum(len(k) for k in kept)
            if total >= n:
                counts = largest_remainder(n, [len(k) for k in kept])
                return torch.cat([select(k, c, method) for k, c in zip(kept, counts, strict=True)])
            accept = max(total, 1) / m
            if total * MIN_ESTIMATE_COUNT < n and not probed:  # few or none kept: is anything there at all?
                accept, probed = min(accept, self._probe_boundary(patches, what)), True
            m = int(math.ceil(m * n / max(total, 1) * 1.25)) + 8 if total else int(math.ceil(1.25 * n / accept)) + 8
        raise ValueError(f"could not find {n} points of {what} in {ROUNDS} rounds (last round: {total} of {m} "
                         "candidates kept): it seems empty or too small; ask for fewer points or widen the selection")

    def _probe_boundary(self, patches: list[BoundaryPatch], what: str) -> float:
        """Fraction of boundary candidates the patches' filters keep, from ``PROBE`` points spread over the
        pieces by measure (fixed seed, chunks of ``PROBE_CHUNK``); a ``ValueError`` where none is kept."""
        rng, found = make_rng(0), 0
        for p, c in zip(patches, largest_remainder(PROBE, patch_weights(patches)), strict=True):
            if p.keep is None:
                found += c
                continue
            u = unit_samples(c, p.dim, "sobol", rng)
            for start in range(0, c, PROBE_CHUNK):
                found += int(p.keep(p.to_points(torch.from_numpy(u[start:start + PROBE_CHUNK]))).sum())
        if found == 0:
            raise ValueError(f"{what} seems empty or too thin to sample: none of {PROBE} candidate points on "
                             "its pieces passes its selection (face names, predicates, or the parts of a CSG "
                             "result's pieces that are on its boundary); check the geometry or the selection")
        return found / PROBE

    def _finite_boundary(self, patches, n, method, rng) -> Tensor:
        pts = finite_points(patches)
        if n > len(pts):
            raise ValueError(f"n must be at most {len(pts)}: the boundary of this 1-D {type(self).__name__} "
                             f"has only {len(pts)} points; got n={n}")
        idx = np.sort(rng.choice(len(pts), n, replace=False)) if method == "random" else np.arange(n)
        return torch.cat([pts[i] for i in idx])

    # ------------------------------------------------------------------ helpers
    def _check_points(self, x) -> Tensor:
        """``x`` as a floating tensor of shape (N, d), or a ``ValueError`` naming the expected shape."""
        if not isinstance(x, Tensor):
            x = torch.as_tensor(np.asarray(x))
        if x.is_complex() or x.dtype == torch.bool:
            raise ValueError(f"x must hold real coordinates; got dtype {x.dtype}")
        if not x.is_floating_point():
            x = x.to(torch.float64)
        elif x.dtype in (torch.float16, torch.bfloat16):
            x = x.float()
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (N, {self.dim}) for this {self.dim}-D {type(self).__name__} "
                             f"(coordinates {', '.join(self.names)}); got shape {tuple(x.shape)}")
        return x

    def _finish(self, x: Tensor, dtype, device, redraw: Callable[[int], Tensor] | None = None,
                what: str = "points") -> Tensor:
        """Float64 points ``x`` (n, d) in ``dtype`` on ``device``, still ``n`` distinct rows.

        Rounding to a narrower dtype can merge points (``Interval(1e6, 1e6 + 1)`` holds only 17 float32
        numbers); merged rows are replaced by fresh points from ``redraw(k)`` (float64, ``k`` rows), at most
        ``ROUNDS`` times, and a ``ValueError`` says so where the dtype cannot hold ``n`` distinct points.
        """
        dtype = torch.get_default_dtype() if dtype is None else check_dtype(dtype)
        device = None if device is None else check_device(device)
        y = x.to(dtype=dtype)
        if dtype != torch.float64 and len(y) > 1:
            n, capacity = len(y), room(self._bbox, dtype)
            if n > capacity:
                raise ValueError(f"{what} in {dtype} cannot be {n} distinct points: its bounding box holds only "
                                 f"{capacity} points of {dtype} numbers; use dtype=torch.float64, fewer points, or "
                                 "coordinates nearer 0")
            keep = first_rows(y)
            for _ in range(ROUNDS if redraw is not None else 0):
                if int(keep.sum()) >= n:
                    break
                before = int(keep.sum())
                y = torch.cat([y[keep], redraw(2 * (n - before) + 16).to(dtype)])
                keep = first_rows(y)
                if int(keep.sum()) == before:  # nothing new: the dtype holds no more distinct points here
                    break
            found = int(keep.sum())
            if found < n:
                raise ValueError(f"{what} in {dtype} cannot be {n} distinct points: rounding to {dtype} leaves "
                                 f"{found} distinct ones (the spacing of {dtype} numbers is too coarse for "
                                 "these coordinates); use dtype=torch.float64, fewer points, or coordinates "
                                 "nearer 0")
            if found < len(y) or len(y) > n:
                y = y[keep][:n]
        return y if device is None else y.to(device=device)

    # ------------------------------------------------------------------ operators
    def __or__(self, other: Geometry) -> Geometry:
        from .csg import Union
        return Union(self, other)

    def __and__(self, other: Geometry) -> Geometry:
        from .csg import Intersection
        return Intersection(self, other)

    def __sub__(self, other: Geometry) -> Geometry:
        from .csg import Difference
        return Difference(self, other)

    def __mul__(self, other: Geometry) -> Geometry:
        from .space_time import SpaceTimeDomain
        from .time_domain import TimeDomain
        if not isinstance(other, TimeDomain):
            raise TypeError(f"geometry * other needs a TimeDomain on the right (space-time product); "
                            f"got {type(other).__name__}")
        return SpaceTimeDomain(self, other)
