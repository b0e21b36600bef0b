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
from .linear_combination import LinearCombination, materialize
from .operator_problem import OPERATOR_BACKENDS, InputBatch, OperatorFields, OperatorProblem
from .problem import Batch, Problem

__all__ = [
    "BACKENDS", "AutogradDerivatives", "Batch", "Condition", "DirichletBC", "Fields", "InitialCondition",
    "MeanValue", "NeumannBC", "ObservedData", "PeriodicBC", "PointValue", "Problem", "RobinBC", "ZCSDerivatives",
    "derivatives", "equations", "references",
    "OPERATOR_BACKENDS", "InputBatch", "LinearCombination", "OperatorFields", "OperatorProblem", "materialize",
]
