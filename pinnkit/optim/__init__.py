"""Optimizers for sums of loss terms: MultiAdam, ConFIG, M-ConFIG, PCGrad, and L-BFGS through the Trainer.

:func:`conflict_free_direction` and :func:`per_loss_gradients` are the building blocks.
"""

from .conflict_free import conflict_free_direction
from .gradients import per_loss_gradients

__all__ = ["conflict_free_direction", "per_loss_gradients"]
