"""Equation discovery by sparse regression: sequentially thresholded least squares (STLSQ) on a library of
candidate terms (Brunton, Proctor & Kutz, "Discovering governing equations from data by sparse identification
of nonlinear dynamical systems", PNAS 113, 2016).

Given features ``Θ`` ``(n, p)`` (a :class:`PolynomialLibrary` of the states) and targets ``Y`` ``(n, k)``
(derivatives, or the values of a learned neural term), STLSQ solves for sparse coefficients ``Ξ`` ``(p, k)``
with ``Y ≈ Θ Ξ``, one target column at a time:

    ξ ← argmin ‖Θ ξ - y‖² + λ‖ξ‖²;  repeat: zero every |ξ_j| < threshold, refit the rest, until no change.

With exact data from a system whose terms are in the library, the first fit is already exact and the
thresholding only removes round-off, so the recovered coefficients are exact to solver precision.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..checks import check_non_negative_float, check_positive_int
from .polynomial_library import PolynomialLibrary
from .sparse_polynomial import SparsePolynomial


def stlsq(features: np.ndarray, targets: np.ndarray, threshold: float, *, ridge: float = 0.0,
          max_iter: int = 20) -> np.ndarray:
    """Sparse coefficients ``Ξ`` ``(p, k)`` with ``targets ≈ features @ Ξ`` (float64 arrays ``(n, p)``,
    ``(n, k)``), by sequentially thresholded (ridge) least squares."""
    features = np.asarray(features, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if features.ndim != 2 or targets.ndim != 2 or features.shape[0] != targets.shape[0]:
        raise ValueError(f"features (n, p) and targets (n, k) must share n; got {features.shape} and "
                         f"{targets.shape}")
    if not (np.isfinite(features).all() and np.isfinite(targets).all()):
        raise ValueError("features and targets must be finite")
    threshold = check_non_negative_float(threshold, "threshold")
    ridge = check_non_negative_float(ridge, "ridge")
    max_iter = check_positive_int(max_iter, "max_iter")
    p = features.shape[1]
    coef = np.zeros((p, targets.shape[1]))
    for k in range(targets.shape[1]):
        active = np.ones(p, dtype=bool)
        xi = _least_squares(features, targets[:, k], active, ridge)
        for _ in range(max_iter):
            keep = active & (np.abs(xi) >= threshold)
            if (keep == active).all():
                break
            active = keep
            xi = _least_squares(features, targets[:, k], active, ridge)
        coef[:, k] = xi
    return coef


def _least_squares(features, y, active, ridge) -> np.ndarray:
    xi = np.zeros(features.shape[1])
    if not active.any():
        return xi
    a = features[:, active]
    if ridge > 0:
        xi[active] = np.linalg.solve(a.T @ a + ridge * np.eye(a.shape[1]), a.T @ y)
    else:
        xi[active] = np.linalg.lstsq(a, y, rcond=None)[0]
    return xi


def threshold_sweep(library: PolynomialLibrary, u, targets, thresholds: Sequence[float], *,
                    names: Sequence[str] | None = None, ridge: float = 0.0) -> list[SparseRegression]:
    """STLSQ fits for each of ``thresholds``, one per distinct sparsity pattern (the first threshold that gives
    it), densest first; all-zero fits are left out. The candidates of a model selection (e.g. refit each to
    the data and keep the lowest BIC), since one threshold rarely suits noisy targets."""
    if isinstance(thresholds, (int, float)) or len(thresholds) == 0:
        raise ValueError(f"thresholds must be a non-empty sequence of numbers; got {thresholds!r}")
    out: dict[bytes, SparseRegression] = {}
    for threshold in sorted(thresholds):
        model = SparseRegression(library, threshold, ridge=ridge).fit(u, targets, names=names)
        key = (model.coefficients != 0).tobytes()
        if model.coefficients.any() and key not in out:
            out[key] = model
    return list(out.values())


class SparseRegression:
    """Fit sparse equations ``target_k = Σ_j Ξ_jk Θ_j(u)`` and print them.

    Parameters
    ----------
    library : PolynomialLibrary
        The candidate terms of the states.
    threshold : float
        Coefficients smaller in magnitude are set to zero (in the units of the targets per unit term).
    ridge : float
        Ridge penalty ``λ`` of each least-squares fit (0: plain least squares).
    max_iter : int
        Thresholding rounds at most.

    Use ``SparseRegression(lib, 0.05).fit(u, targets, names=["dx/dt", "dy/dt"])``; ``print`` the result for
    ``dx/dt = -0.9 x y`` style equations, read :meth:`coefficient` or :attr:`coefficients` ``(p, k)``.
    """

    def __init__(self, library: PolynomialLibrary, threshold: float = 0.1, *, ridge: float = 0.0,
                 max_iter: int = 20):
        if not isinstance(library, PolynomialLibrary):
            raise ValueError(f"library must be a PolynomialLibrary; got {type(library).__name__}")
        self.library = library
        self.threshold = check_non_negative_float(threshold, "threshold")
        self.ridge = check_non_negative_float(ridge, "ridge")
        self.max_iter = check_positive_int(max_iter, "max_iter")
        self.coefficients: np.ndarray | None = None
        self.targets: tuple[str, ...] = ()

    def fit(self, u, targets, *, names: Sequence[str] | None = None) -> SparseRegression:
        """Fit on states ``u`` ``(n, d)`` and target values ``(n, k)`` (tensors or arrays); ``names`` label the
        targets in the printed equations (default ``d<name>/dt`` for ``k = d``, else ``f_1 .. f_k``)."""
        if isinstance(targets, torch.Tensor):
            targets = targets.detach().cpu().double().numpy()
        targets = np.asarray(targets, dtype=np.float64)
        if targets.ndim == 1:
            targets = targets[:, None]
        features = self.library(u)
        if names is None:
            names = [f"d{n}/dt" for n in self.library.names] if targets.shape[1] == len(self.library.names) \
                else [f"f_{k + 1}" for k in range(targets.shape[1])]
        if len(names) != targets.shape[1]:
            raise ValueError(f"names must label the {targets.shape[1]} targets; got {len(names)} names")
        self.coefficients = stlsq(features, targets, self.threshold, ridge=self.ridge, max_iter=self.max_iter)
        self.targets = tuple(names)
        return self

    def _fitted(self) -> np.ndarray:
        if self.coefficients is None:
            raise RuntimeError("call fit() first")
        return self.coefficients

    def predict(self, u) -> np.ndarray:
        """The fitted right-hand sides at states ``u`` ``(n, d)``: ``(n, k)``."""
        return self.library(u) @ self._fitted()

    def coefficient(self, target: str, term: str) -> float:
        """The coefficient of ``term`` (e.g. ``"x y"``) in the equation of ``target``."""
        coef = self._fitted()
        if target not in self.targets:
            raise ValueError(f"no target {target!r}; targets are {list(self.targets)}")
        terms = self.library.terms
        if term not in terms:
            raise ValueError(f"no term {term!r}; the library's terms are {terms}")
        return float(coef[terms.index(term), self.targets.index(target)])

    def to_module(self, *, trainable: bool = True) -> SparsePolynomial:
        """The fitted equations as a module ``u -> Θ(u) Ξ`` (``(B, d) -> (B, k)``), its nonzero coefficients
        trainable (to refit the discovered form to data) unless ``trainable=False``."""
        return SparsePolynomial(self.library, self._fitted(), trainable=trainable)

    def equations(self, precision: int = 4) -> list[str]:
        """One line per target: ``"dx/dt = 1.3 x - 0.9 x y"`` (``"... = 0"`` when every term vanished)."""
        coef = self._fitted()
        lines = []
        for k, target in enumerate(self.targets):
            parts = []
            for c, term in zip(coef[:, k], self.library.terms, strict=True):
                if c == 0:
                    continue
                magnitude = f"{abs(c):.{precision}g}"
                body = magnitude if term == "1" else f"{magnitude} {term}"
                sign = "-" if c < 0 else "+"
                parts.append(f"{'-' if sign == '-' else ''}{body}" if not parts else f" {sign} {body}")
            lines.append(f"{target} = {''.join(parts) or '0'}")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.equations()) if self.coefficients is not None else repr(self)

    def __repr__(self) -> str:
        return f"SparseRegression({self.library!r}, threshold={self.threshold}, ridge={self.ridge})"
