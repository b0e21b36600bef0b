"""What :class:`~pinnkit.Trainer` and :class:`~pinnkit.OperatorTrainer` share: the training loop over a
:class:`~pinnkit.training.problem_objective.ProblemObjective`, and the objective's parts read through by name."""

from __future__ import annotations

from typing import Any

from .loop import TrainingLoop


def from_objective(name: str, doc: str) -> property:
    """A read-only attribute of the trainer that is the objective's attribute ``name``."""
    return property(lambda self: getattr(self.objective, name), doc=doc)


class ProblemTrainer(TrainingLoop):
    """A training loop whose objective is a problem's (a PINN's or an operator problem's)."""

    objective: Any
    problem = from_objective("problem", "The problem being solved (a fixed specification).")
    net = from_objective("net", "The network being trained.")
    sampler = from_objective("sampler", "The collocation sampler.")
    backend = from_objective("backend", "The derivative backend (a pinnkit.Backend).")
    dtype = from_objective("dtype", "The training precision.")
    seed = from_objective("seed", "The seed of the points.")
    condition_points = from_objective("condition_points", "The conditions' points, name -> (N_k, d).")
    parameters = from_objective("pde_parameters", "The trainable PDE parameters, name -> 0-dim tensor (an "
                                                  "nn.ParameterDict in the training precision).")
    evaluator = from_objective("evaluator", "The evaluator of the problem's residuals for the network.")

    def parameter_values(self) -> dict[str, float]:
        """The PDE parameters' current values as floats, name -> value (``{}`` without PDE parameters)."""
        return self.objective.parameter_values()
