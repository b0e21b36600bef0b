"""Neural and universal differential equations.

- :class:`NeuralODE`: ``du/dt = f(t, u)`` for any module ``f``, solved by torchdiffeq (adaptive or fixed-step
  methods, tolerances), gradients by direct backpropagation or the adjoint method.
- :class:`UniversalODE`: a known right-hand side with named (trainable) physical parameters plus neural terms.
- :class:`NeuralSDE`: drift and diffusion modules, Itô or Stratonovich, diagonal or general noise, by torchsde.
- Fitting: :class:`TrajectoryFit` (observed trajectories, missing values, multiple shooting),
  :class:`SDETransitionFit` (Euler–Maruyama likelihood of finely sampled paths), :class:`SDEMomentFit`
  (mean and variance of coarsely sampled paths).
- Equation discovery: :class:`PolynomialLibrary` and :class:`SparseRegression` (STLSQ), which turn a learned
  term into a printed formula, and :class:`SparsePolynomial` into a module that can be refitted.

Fields are called ``f(t, u)`` with states ``u`` ``(B, d)``; :class:`Autonomous` and :class:`TimeDependent`
turn networks of the state into fields. Only :mod:`pinnkit.dynamics.backend` talks to the solver libraries.
"""

from .fit import DynamicsFit
from .neural_ode import NeuralODE
from .neural_sde import NeuralSDE
from .polynomial_library import PolynomialLibrary
from .sde_fit import SDEMomentFit, SDETransitionFit, transition_nll
from .sparse_polynomial import SparsePolynomial
from .sparse_regression import SparseRegression, stlsq, threshold_sweep
from .trajectory_fit import TrajectoryFit
from .universal_ode import UniversalODE
from .vector_field import Autonomous, FunctionField, TimeDependent

__all__ = [
    "Autonomous", "DynamicsFit", "FunctionField", "NeuralODE", "NeuralSDE", "PolynomialLibrary", "SDEMomentFit",
    "SDETransitionFit", "SparsePolynomial", "SparseRegression", "TimeDependent", "TrajectoryFit", "UniversalODE",
    "stlsq", "threshold_sweep", "transition_nll",
]
