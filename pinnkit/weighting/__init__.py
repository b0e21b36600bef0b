"""Loss weightings: weights of the loss terms computed from the residuals of the step they weight, kept apart
from the collocation points (:mod:`pinnkit.sampling`). :class:`CausalWeighting` (causal time weighting),
:class:`ResidualAttention` (residual-based attention, RBA), :class:`VariationalResidualAttention` (vRBA),
:class:`PointWeights` (fixed per-point weights); :class:`Weighting` is the interface."""

from .causal import CausalWeighting, causal_weights
from .residual_attention import ResidualAttention
from .variational_attention import VariationalResidualAttention
from .weighting import PointWeights, Product, Weighting, Weights, combine

__all__ = ["CausalWeighting", "PointWeights", "Product", "ResidualAttention", "VariationalResidualAttention",
           "Weighting", "Weights", "causal_weights", "combine"]
