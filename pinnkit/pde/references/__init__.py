"""Exact reference solutions of benchmark PDE problems, for validating trained models."""

from .burgers import burgers_exact, burgers_exact_grid

__all__ = ["burgers_exact", "burgers_exact_grid"]
