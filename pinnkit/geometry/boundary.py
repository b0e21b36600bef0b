"""Parts of a boundary, chosen by face name and/or by a predicate, for boundary conditions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from .patch import BoundaryPatch, finite_points
from .unit_samples import ORDERED_METHODS, Seed, check_count, check_method, make_rng

if TYPE_CHECKING:  # only annotations: Geometry.boundary builds a Boundary, so geometry.py imports this module
    from .geometry import Geometry
    from .patch import Mask

Predicate = Callable[[Tensor], Tensor]


class Boundary:
    """The boundary of ``geometry``, or the part of it on the named ``faces`` whose points satisfy ``predicate``.

    ``geometry.boundary`` is the whole boundary; calling a boundary narrows it::

        rect.boundary("left")                        # the face x = xmin (also "x_min"; "bottom" is y_min)
        rect.boundary("left", "right")               # both faces
        disk.boundary(lambda x: x[:, 1] > 0)         # the upper half circle
        box.boundary("x_max", lambda x: x[:, 1] < 0)  # part of a face

    Face names combine by union, predicates by intersection. A predicate takes points ``(N, d)`` and returns
    ``(N,)`` booleans. Faces exist where a geometry has flat named sides (boxes, intervals, and their products
    with a time domain); for space-time domains the faces are the spatial ones (the lateral boundary).
    """

    def __init__(self, geometry: Geometry, faces: tuple[str, ...] | None = None,
                 predicates: tuple[Predicate, ...] = ()):
        self.geometry, self.faces, self.predicates = geometry, faces, predicates

    def __call__(self, *selectors: str | Predicate) -> Boundary:
        """A narrower part: face names (union) and predicates (intersection)."""
        if not selectors:
            raise ValueError("boundary(...) needs at least one face name or predicate")
        known, aliases = self.geometry._faces(), self.geometry._face_aliases()
        faces, predicates = [], list(self.predicates)
        for s in selectors:
            if isinstance(s, str):
                label = aliases.get(s, s)
                if label not in known:
                    names = sorted(set(known) | set(aliases))
                    raise ValueError(f"unknown face {s!r} of {self.geometry!r}; "
                                     + (f"its faces are {names}" if names else "it has no named faces: "
                                        "select boundary points with a predicate instead"))
                faces.append(label)
            elif callable(s):
                predicates.append(s)
            else:
                raise ValueError(f"boundary selectors must be face names or predicates; got {type(s).__name__}")
        if faces and self.faces is not None:
            faces = [f for f in faces if f in self.faces]
            if not faces:
                raise ValueError(f"faces {selectors} are not part of {self!r}")
        selected = tuple(dict.fromkeys(faces)) if faces else self.faces
        return Boundary(self.geometry, selected, tuple(predicates))

    def __repr__(self) -> str:
        parts = [] if self.faces is None else [", ".join(self.faces)]
        parts += [getattr(p, "__name__", "predicate") for p in self.predicates]
        return f"{self.geometry!r}.boundary({'; '.join(parts)})"

    @property
    def label(self) -> str:
        """A short name for logs and loss terms: the faces, or ``"boundary"``."""
        return "+".join(self.faces) if self.faces else "boundary"

    def contains(self, x) -> Mask:
        """``(N,)`` bool: on the geometry's boundary, on one of the faces, and satisfying the predicates."""
        x = self.geometry._check_points(x)
        mask = self.geometry.on_boundary(x)
        if self.faces is not None:
            tol = self.geometry.tol(x.dtype)
            faces = self.geometry._faces()
            on_face = torch.zeros_like(mask)
            for label in self.faces:
                axis, value = faces[label]
                on_face |= (x[:, axis] - value).abs() <= tol
            mask &= on_face
        return mask & self._predicates(x)

    def _predicates(self, x: Tensor) -> Mask:
        mask = torch.ones(len(x), dtype=torch.bool, device=x.device)
        for p in self.predicates:
            out = torch.as_tensor(p(x), device=x.device)
            if out.shape != (len(x),) or out.dtype != torch.bool:
                raise ValueError(f"a boundary predicate must return (N,) booleans for points (N, d); got "
                                 f"dtype {out.dtype} and shape {tuple(out.shape)} for N = {len(x)}")
            mask &= out
        return mask

    def normal(self, x) -> Tensor:
        """Unit outward normals ``(N, d)`` (see :meth:`Geometry.boundary_normal`)."""
        return self.geometry.boundary_normal(x)

    def sample(self, n: int, method: str = "sobol", *, seed: Seed = None, dtype: torch.dtype | None = None,
               device: torch.device | str | None = None) -> Tensor:
        """Exactly ``n`` distinct points of this part, uniform by length / area (see ``sample_boundary``)."""
        n, method, rng = check_count(n), check_method(method), make_rng(seed)
        patches: list[BoundaryPatch] | None = None

        def points(k: int, method: str) -> Tensor:
            nonlocal patches
            if method == "random" and not self.predicates and self.geometry._random_boundary is not None:
                x = self.geometry._random_boundary(k, rng, self.faces)  # O(k d), no per-face pieces
                if x is not None:
                    return x
            patches = self._patches() if patches is None else patches
            return self.geometry._boundary_points(k, method, rng, patches, what=repr(self))

        redraw_method = "random" if method in ORDERED_METHODS else method
        return self.geometry._finish(points(n, method), dtype, device, lambda k: points(k, redraw_method),
                                     f"points of {self!r}")

    def point_count(self) -> int | None:
        """The number of points of this part when it is finite (on a 1-D geometry: the ends of an interval that
        it selects), else None."""
        patches = self._patches()
        if not patches or not all(p.dim == 0 for p in patches):
            return None
        return len(finite_points(patches))

    def _patches(self) -> list[BoundaryPatch]:
        """The geometry's boundary pieces on the selected faces, filtered by the predicates."""
        patches = self.geometry._boundary_patches()
        if self.faces is not None:
            patches = [p for p in patches if p.label in self.faces]
        if self.predicates:
            def keep_with(p):
                def keep(x):
                    mask = self._predicates(x)
                    return mask if p.keep is None else mask & p.keep(x)
                return keep
            patches = [replace(p, keep=keep_with(p)) for p in patches]
        return patches
