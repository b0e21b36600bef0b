"""R-functions: smooth Boolean algebra on approximate distance functions (positive inside).

Rvachev's R0 system, as used for exact boundary conditions by Sukumar & Srivastava (CMAME 389, 2022):

    a AND b = a + b - sqrt(a^2 + b^2)        positive iff both are positive
    a OR  b = a + b + sqrt(a^2 + b^2)        positive iff either is positive
    NOT a   = -a

Where one argument vanishes and the other does not, the result equals the vanishing one to first order,
so a normalised distance (unit normal derivative) stays normalised. Both are smooth except where
``a = b = 0`` (corners).
"""

from torch import Tensor


def r_and(a: Tensor, b: Tensor) -> Tensor:
    """R-conjunction of two distance functions (intersection of their positive sets)."""
    return a + b - (a * a + b * b).sqrt()


def r_or(a: Tensor, b: Tensor) -> Tensor:
    """R-disjunction of two distance functions (union of their positive sets)."""
    return a + b + (a * a + b * b).sqrt()
