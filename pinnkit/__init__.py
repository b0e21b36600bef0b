"""pinnkit: physics-informed neural networks and operator learning in PyTorch.

The pieces of a script, in order: a domain (:mod:`pinnkit.geometry`), a :class:`Problem` with its residual
and conditions (:mod:`pinnkit.pde`), a network (:mod:`pinnkit.nets`), and a :class:`Trainer` (with a sampler
from :mod:`pinnkit.sampling` and optionally a weighting from :mod:`pinnkit.weighting`, and a derivative
:class:`Backend` from :mod:`pinnkit.derivatives`); every trainer runs the
one loop of :mod:`pinnkit.training`. :class:`TimeMarching` trains a time-dependent problem window by window;
:func:`load` reads a trained model back.
"""

from . import (
               callbacks,
               checks,
               cli,
               derivatives,
               distributed,
               dynamics,
               functions,
               geometry,
               metrics,
               nets,
               optim,
               pde,
               sampling,
               training,
               weighting,
)
from .callbacks import Checkpoint, EarlyStopping
from .derivatives import Backend
from .model import Model, OperatorModel, load
from .pde import (
               DirichletBC,
               InitialCondition,
               MeanValue,
               NeumannBC,
               ObservedData,
               PeriodicBC,
               PointValue,
               Problem,
               RobinBC,
)
from .pde.operator_problem import OperatorProblem
from .training import NonFiniteLossError, OperatorTrainer, TimeMarching, Trainer

#: The version of this pinnkit, a PEP 440 string.
__version__ = "0.1.0"

__all__ = [
    "Backend", "Checkpoint", "DirichletBC", "EarlyStopping", "InitialCondition", "MeanValue", "Model", "NeumannBC",
    "OperatorModel", "NonFiniteLossError", "ObservedData", "PeriodicBC", "PointValue", "Problem", "RobinBC",
    "TimeMarching", "Trainer",
    "__version__", "callbacks", "checks", "cli", "derivatives", "distributed",
    "dynamics", "geometry", "load", "metrics", "nets", "optim", "pde",
    "sampling", "functions", "OperatorProblem", "OperatorTrainer", "training", "weighting",
]
