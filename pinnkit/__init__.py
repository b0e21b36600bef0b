"""pinnkit: physics-informed neural networks and operator learning in PyTorch.

The pieces of a script, in order: a domain (:mod:`pinnkit.geometry`), a :class:`Problem` with its residual
and conditions (:mod:`pinnkit.pde`), a network (:mod:`pinnkit.nets`), and a :class:`Trainer` (with a sampler
from :mod:`pinnkit.sampling`). :class:`TimeMarching` trains a time-dependent problem window by window;
:func:`load` reads a trained model back.
"""

from . import callbacks, checks, cli, dynamics, functions, geometry, metrics, nets, optim, pde, sampling
from .callbacks import Checkpoint, EarlyStopping
from .model import Model, OperatorModel, load
from .operator_trainer import OperatorTrainer
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
from .time_marching import TimeMarching
from .trainer import NonFiniteLossError, Trainer

__version__ = "0.1.0"

__all__ = [
    "Checkpoint", "DirichletBC", "EarlyStopping", "InitialCondition", "MeanValue", "Model", "NeumannBC",
    "OperatorModel", "NonFiniteLossError", "ObservedData", "PeriodicBC", "PointValue", "Problem", "RobinBC",
    "TimeMarching", "Trainer",
    "__version__", "callbacks", "checks", "cli", "dynamics", "geometry", "load", "metrics", "nets", "optim", "pde",
    "sampling", "functions", "OperatorProblem", "OperatorTrainer",
]
