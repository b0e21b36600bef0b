"""Problems, conditions, ready-made equations, references and the derivative engine (autograd and ZCS)."""

from . import equations, references
from .conditions import (
    Condition,
    DirichletBC,
    InitialCondition,
    NeumannBC,
    ObservedData,
    PeriodicBC,
    RobinBC,
)
from .derivatives import BACKENDS, AutogradDerivatives, ZCSDerivatives, derivatives
from .fields import Fields
from .gauge import MeanValue, PointValue
from .problem import Batch, Problem

__all__ = [
    "BACKENDS", "AutogradDerivatives", "Batch", "Condition", "DirichletBC", "Fields", "InitialCondition",
    "MeanValue", "NeumannBC", "ObservedData", "PeriodicBC", "PointValue", "Problem", "RobinBC", "ZCSDerivatives",
    "derivatives", "equations", "references",
]
