"""A sparse polynomial right-hand side as a module: a discovered equation, ready to be solved or refitted."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from ..checks import check_bool
from .polynomial_library import PolynomialLibrary


class SparsePolynomial(nn.Module):
    """``u ↦ Θ(u) (Ξ ⊙ M)``: the terms of a :class:`PolynomialLibrary` with coefficients ``Ξ`` ``(p, k)``, of
    which only the nonzero ones (mask ``M``) are active; states ``(B, d)`` to ``(B, k)``.

    Usually made by :meth:`SparseRegression.to_module`. With ``trainable=True`` the active coefficients are an
    ``nn.Parameter`` (the inactive ones stay exactly zero), so the discovered equation can be refitted to the
    data, e.g. as a term of a :class:`UniversalODE`.
    """

    def __init__(self, library: PolynomialLibrary, coefficients, *, trainable: bool = True):
        super().__init__()
        if not isinstance(library, PolynomialLibrary):
            raise ValueError(f"library must be a PolynomialLibrary; got {type(library).__name__}")
        coef = torch.tensor(np.array(coefficients, dtype=np.float64))  # a copy: training never edits the source
        if coef.ndim != 2 or coef.shape[0] != len(library):
            raise ValueError(f"coefficients must have shape ({len(library)}, k) for this library; got "
                             f"{tuple(coef.shape)}")
        self.library = library
        self.register_buffer("exponents", torch.as_tensor(library.exponents, dtype=torch.float64))
        self.register_buffer("mask", (coef != 0).to(torch.float64))
        self.coefficients = nn.Parameter(coef, requires_grad=check_bool(trainable, "trainable"))

    def features(self, u: Tensor) -> Tensor:
        """``Θ(u)`` ``(B, p)``."""
        if u.ndim != 2 or u.shape[1] != self.exponents.shape[1]:
            raise ValueError(f"u must have shape (B, {self.exponents.shape[1]}); got {tuple(u.shape)}")
        return torch.prod(u[:, None, :] ** self.exponents.to(u.dtype)[None], dim=2)

    def forward(self, u: Tensor) -> Tensor:
        return self.features(u) @ (self.coefficients * self.mask).to(u.dtype)
