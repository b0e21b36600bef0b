"""Training: one loop (:class:`TrainingLoop`) that drives every objective pinnkit trains.

* :mod:`~pinnkit.training.objective`: the protocol (:class:`Objective`, :class:`Evaluation`);
* :mod:`~pinnkit.training.optimizers`: the optimizer table and the kinds of step;
* :mod:`~pinnkit.training.loop`: ``fit`` (first-order, multi-loss and chunked quasi-Newton steps), history,
  callbacks, checkpoints;
* :mod:`~pinnkit.training.compiled_update`: the guarded Adam/AdamW update as one compiled graph
  (:class:`CompiledUpdate`, used by the loop with a compiled derivative backend);
* :mod:`~pinnkit.training.fused_step`: a whole Adam/AdamW, ConFIG or MultiAdam step, evaluation, gradient,
  checks, snapshot and update, as one compiled graph (:class:`FusedAdamStep`, :class:`FusedMultiAdamStep`, for
  objectives whose terms trace whole: :class:`TracedTerms`);
* objectives: PINNs (:class:`Trainer`), operator learning (:class:`OperatorTrainer`), time-marching
  (:class:`TimeMarching`, a PINN trainer per window), a loss written as a function (:class:`FunctionObjective`,
  e.g. the high-dimensional STDE examples); trajectory and SDE fits are in :mod:`pinnkit.dynamics`.
"""

from ..checks import check_loss_weights
from .compiled_update import CompiledUpdate
from .function_objective import FunctionObjective
from .fused_step import FusedAdamStep, FusedMultiAdamStep
from .loop import NonFiniteLossError, TrainingLoop
from .objective import Evaluation, Objective, TracedTerms
from .operator import OperatorObjective, OperatorTrainer
from .optimizers import LBFGS_DEFAULTS, OPTIMIZERS, QUASI_NEWTON_CHUNK, QUASI_NEWTON_DEFAULTS
from .pinn import PINNObjective, Trainer
from .prediction import predict_points
from .time_marching import PreviousWindow, TimeMarching

__all__ = ["CompiledUpdate", "Evaluation", "FunctionObjective", "FusedAdamStep", "FusedMultiAdamStep",
           "LBFGS_DEFAULTS", "NonFiniteLossError", "OPTIMIZERS", "Objective", "OperatorObjective", "OperatorTrainer",
           "PINNObjective", "PreviousWindow", "QUASI_NEWTON_CHUNK", "QUASI_NEWTON_DEFAULTS", "TimeMarching",
           "TracedTerms", "Trainer", "TrainingLoop", "check_loss_weights", "predict_points"]
