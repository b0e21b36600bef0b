"""The modified MLP of Wang, Teng & Perdikaris (2021): an MLP whose hidden layers are gated mixtures of two
encodings of the input."""

from __future__ import annotations

from torch import Tensor, nn

from .mlp import _FeedForward
from .registry import register_net


@register_net(nested=("embedding",))
class ModifiedMLP(_FeedForward):
    r"""Modified MLP (Wang, Teng & Perdikaris 2021, "Understanding and mitigating gradient flow pathologies in
    physics-informed neural networks", SIAM J. Sci. Comput. 43(5)).

    With :math:`X` the (scaled, embedded) input and :math:`\sigma` the activation:

    .. math::
        U &= \sigma(X W_u + b_u), \qquad V = \sigma(X W_v + b_v), \qquad H_1 = \sigma(X W_1 + b_1), \\
        Z_k &= \sigma(H_k W_{z,k} + b_{z,k}), \qquad H_{k+1} = (1 - Z_k) \odot U + Z_k \odot V
              \qquad (k = 1, \dots, \text{depth} - 1), \\
        y &= H_{\text{depth}} W_{\text{out}} + b_{\text{out}}.

    The two encoders ``U`` and ``V`` carry the input to every hidden layer, which mitigates the stiffness of
    PINN gradient flows. ``depth`` counts the hidden states ``H_1 ... H_depth``; ``depth = 1`` is ``y = H_1 W_out
    + b_out`` (the encoders are then unused).

    Arguments are those of :class:`~pinnkit.nets.mlp.MLP`: ``input_bounds`` scales inputs onto ``[-1, 1]``,
    ``embedding`` (applied after the scaling) sets the width of ``X`` to its ``outputs``, ``init`` defaults to
    Glorot normal weights with zero biases. Input ``(..., inputs)``, output ``(..., outputs)``.

    Modules: ``encoder_u`` (:math:`W_u, b_u`), ``encoder_v`` (:math:`W_v, b_v`), ``hidden`` (``hidden[0]`` is
    :math:`W_1, b_1`; ``hidden[k]`` is :math:`W_{z,k}, b_{z,k}` for ``k >= 1``), ``output``, ``activation``.
    """

    def __init__(self, inputs: int, outputs: int, width: int = 64, depth: int = 4,
                 activation: str | nn.Module | type[nn.Module] = "tanh", input_bounds=None,
                 embedding: nn.Module | None = None, init: str = "glorot"):
        super().__init__(inputs, outputs, width, depth, activation, input_bounds, embedding, init)
        self.encoder_u = self._linear(self.features, self.width)
        self.encoder_v = self._linear(self.features, self.width)
        sizes = [self.features] + [self.width] * self.depth
        self.hidden = nn.ModuleList(self._linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.output = self._linear(self.width, self.outputs)

    def forward(self, x: Tensor) -> Tensor:
        """``(..., inputs) -> (..., outputs)``."""
        x = self._front(x)
        sigma = self.activation
        h = sigma(self.hidden[0](x))
        if self.depth > 1:
            u = sigma(self.encoder_u(x))
            v = sigma(self.encoder_v(x))
            for layer in self.hidden[1:]:
                z = sigma(layer(h))
                h = (1 - z) * u + z * v
        return self.output(h)
