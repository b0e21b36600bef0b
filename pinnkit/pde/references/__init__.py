"""Exact reference solutions of benchmark PDE problems, for validating trained models."""

from .allen_cahn import allen_cahn_grid, allen_cahn_solution
from .burgers import burgers_exact, burgers_exact_grid

__all__ = ["allen_cahn_grid", "allen_cahn_solution", "burgers_exact", "burgers_exact_grid"]
