"""Property checks shipped as API, for the tests of problems, equations, networks and trainers.

================================  ===================================================================
:func:`assert_residual_vanishes`  the PDE residual of an exact solution is ~0 at sampled interior points,
                                  every term, through every derivative backend that can differentiate it
:func:`assert_conditions_hold`    every condition's residual of an exact solution is ~0 at its points
:func:`assert_derivatives_match`  every backend's derivatives of a network against float64 central
                                  finite differences
:func:`check_convergence`         the error falls by a factor over a training run (the curve is returned)
================================  ===================================================================

Each raises ``AssertionError`` saying what failed (the term, condition, backend, output, multi-index), where (the
worst point, by coordinate name) and by how much (the value there, max and RMS, the tolerance), and a
``ValueError`` naming the argument for arguments it cannot use. Import it as ``import pinnkit.testing`` (the
package namespace ``pinnkit`` does not import it).
"""

from .convergence import check_convergence
from .derivatives import assert_derivatives_match, finite_difference
from .residuals import assert_conditions_hold, assert_residual_vanishes

__all__ = ["assert_conditions_hold", "assert_derivatives_match", "assert_residual_vanishes", "check_convergence",
           "finite_difference"]
