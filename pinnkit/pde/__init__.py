"""Problems, conditions, ready-made equations and references (the derivative engines are in
:mod:`pinnkit.derivatives`)."""

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
from .fields import Fields
from .gauge import MeanValue, PointValue
from .operator_problem import InputBatch, OperatorFields, OperatorProblem
from .problem import Batch, Problem

__all__ = [
    "Batch", "Condition", "DirichletBC", "Fields", "InitialCondition", "MeanValue", "NeumannBC", "ObservedData",
    "PeriodicBC", "PointValue", "Problem", "RobinBC", "equations", "references",
    "InputBatch", "OperatorFields", "OperatorProblem",
]
