"""Primitive geometries: those with an exact signed distance, and the row normalisation their normals use."""

from __future__ import annotations

import abc

import torch
from torch import Tensor

from .geometry import Geometry
from .patch import Mask


class Primitive(Geometry):
    """A geometry with an exact signed distance ``_sdf`` and an outward normal ``_normal``.

    Membership follows from the distance: interior ``sdf < -tol``, boundary ``|sdf| <= tol``.
    """

    @abc.abstractmethod
    def _normal(self, x: Tensor, tol: float) -> Tensor:
        """Unit outward normals (N, d) at points known to be on the boundary."""

    def _classify(self, x: Tensor, tol: float) -> tuple[Mask, Mask, Tensor]:
        s = self._sdf(x)
        boundary = s.abs() <= tol
        normal = torch.zeros_like(x)
        idx = boundary.nonzero().squeeze(1)
        if len(idx):
            normal[idx] = self._normal(x[idx], tol)
        return s < -tol, boundary, normal


def normalize_rows(v: Tensor) -> Tensor:
    """Rows of ``v`` divided by their Euclidean norm (zero rows stay zero)."""
    norm = torch.linalg.vector_norm(v, dim=1, keepdim=True)
    return v / torch.where(norm > 0, norm, torch.ones_like(norm))
