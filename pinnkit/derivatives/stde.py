r"""The ``"stde"`` engine: linear differential operators by stochastic Taylor derivative estimators (Shi et al.
2024), everything else by reverse mode (:class:`StochasticDerivatives`).

A residual written with operators (``f.laplacian("u")``, ``f.apply(SecondOrder(...), "u")``) reads the same under
every backend: the other engines evaluate the operator exactly from its terms
(:meth:`Derivatives.apply <pinnkit.derivatives.engine.Derivatives.apply>`), this one from random directional jets
(:mod:`pinnkit.derivatives.stochastic`), K directions per step, so that the cost of a Laplacian does not grow with
its d terms. With ``directions=None`` it evaluates the operator exactly by jets along the axes (the d-jet baseline
of the paper). Partial derivatives asked for by name (``f.u_x1``, ``f.gradient("u")``) are reverse mode, as for
``"autograd"``.

Every call of :meth:`StochasticDerivatives.apply` at a new forward pass draws new directions (an operator asked for
twice in one residual is drawn once: the engine caches it), from the backend's generator.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .operators import Operator
from .reverse import AutogradDerivatives


class StochasticDerivatives(AutogradDerivatives):
    """Reverse-mode derivatives of ``net`` at ``x`` (N, d) plus STDE estimates of operators (module docstring).

    ``directions``: K random directions per estimate, or ``None`` for the exact operator by jets;
    ``distribution``: ``"rademacher"``, ``"gaussian"`` or ``None`` (each operator's default);
    ``generator``: where the directions come from (``None``: torch's global generator); ``per_point``: independent
    directions at every point, (N, K, d), instead of K shared by the batch.
    """

    def __init__(self, net, x: Tensor, directions: int | None = 16, distribution: str | None = None,
                 generator: torch.Generator | None = None, per_point: bool = False):
        self.net, self.directions, self.distribution = net, directions, distribution
        self.generator, self.per_point = generator, per_point
        super().__init__(net, x)

    def apply(self, operator: Operator, output: int) -> Tensor:
        """``operator`` applied to ``u_output`` (N,): estimated with :attr:`directions` random jets (all outputs
        from one pass, cached per operator), or exact by jets if ``directions`` is ``None``."""
        key = (operator, -1)
        if key not in self._applied:
            x = self.x.detach()
            if self.directions is None:
                value = operator.exact(self.net, x)
            else:
                value = operator.estimate(self.net, x, self.directions, self.distribution, self.generator,
                                          self.per_point)
            self._applied[key] = value
        return self._applied[key][..., output]
