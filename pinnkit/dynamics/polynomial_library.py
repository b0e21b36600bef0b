"""A library of monomials of the state, the candidate terms of sparse regression (SINDy)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations_with_replacement

import numpy as np
import torch

from ..checks import check_bool, check_positive_int


class PolynomialLibrary:
    """All monomials ``Π_k u_k^{e_k}`` of total degree 0 (the bias) to ``degree`` of the named state variables.

    ``PolynomialLibrary(["x", "y"], degree=2)`` has the terms ``1, x, y, x^2, x y, y^2`` (in that order: by
    degree, then lexicographically in the variable order). Calling it on states ``(n, d)`` gives the feature
    matrix ``Θ`` ``(n, p)`` in float64.
    """

    def __init__(self, names: Sequence[str], degree: int = 2, *, include_bias: bool = True):
        if isinstance(names, str) or not isinstance(names, Sequence) or not names:
            raise ValueError(f"names must be a non-empty sequence of variable names; got {names!r}")
        if not all(isinstance(n, str) and n and " " not in n for n in names) or len(set(names)) != len(names):
            raise ValueError(f"names must be distinct non-empty strings without spaces; got {list(names)}")
        self.names = tuple(names)
        self.degree = check_positive_int(degree, "degree")
        self.include_bias = check_bool(include_bias, "include_bias")
        d = len(names)
        exponents = [(0,) * d] if include_bias else []
        for total in range(1, self.degree + 1):
            for combo in combinations_with_replacement(range(d), total):
                exponents.append(tuple(combo.count(k) for k in range(d)))
        self.exponents = np.array(exponents, dtype=np.int64)  # (p, d)

    def __len__(self) -> int:
        return len(self.exponents)

    def __repr__(self) -> str:
        return f"PolynomialLibrary({list(self.names)}, degree={self.degree}, include_bias={self.include_bias})"

    @property
    def terms(self) -> list[str]:
        """Names of the terms: ``"1"``, ``"x"``, ``"x^2"``, ``"x y"``, ..."""
        out = []
        for row in self.exponents:
            parts = [n if e == 1 else f"{n}^{e}" for n, e in zip(self.names, row, strict=True) if e > 0]
            out.append(" ".join(parts) if parts else "1")
        return out

    def __call__(self, u) -> np.ndarray:
        """Features ``Θ(u)`` ``(n, p)`` of states ``u`` ``(n, d)`` (tensor or array), float64."""
        if isinstance(u, torch.Tensor):
            u = u.detach().cpu().double().numpy()
        u = np.asarray(u, dtype=np.float64)
        if u.ndim != 2 or u.shape[1] != len(self.names):
            raise ValueError(f"u must have shape (n, {len(self.names)}) with columns {self.names}; got {u.shape}")
        return np.prod(u[:, None, :] ** self.exponents[None, :, :], axis=2)
