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
from .evaluator import Evaluator, InputBatch, OperatorEvaluator
from .fields import Fields, OperatorFields
from .gauge import MeanValue, PointValue
from .operator_problem import OperatorProblem
from .problem import Problem
from .specification import Batch, Specification

__all__ = [
    "Batch", "Condition", "DirichletBC", "Fields", "InitialCondition", "MeanValue", "NeumannBC", "ObservedData",
    "PeriodicBC", "PointValue", "Problem", "RobinBC", "equations", "references",
    "InputBatch", "OperatorFields", "OperatorProblem", "Specification", "Evaluator", "OperatorEvaluator",
]
