"""Optimizers for sums of loss terms: MultiAdam, ConFIG, M-ConFIG, PCGrad, and L-BFGS through the Trainer.

Every optimizer here is a :class:`torch.optim.Optimizer` that takes the *named* losses of a step
(:meth:`MultiLossOptimizer.step_losses`) and does its own backward pass(es):

* :class:`MultiAdam`: Adam moments per loss group (PDE | conditions by default); scale-invariant per group.
* :class:`ConFIG`: the conflict-free direction of the per-loss gradients, stepped by any torch optimizer.
* :class:`MConFIG`: M-ConFIG, one loss backpropagated per step, momentum per loss, ConFIG on the momenta.
* :class:`PCGrad`: projecting conflicting gradients (baseline).

Dense quasi-Newton optimizers (:class:`QuasiNewton`: an ``n x n`` inverse Hessian, a strong-Wolfe line search,
``step(closure)`` as torch's L-BFGS): :class:`BFGS`, :class:`SSBFGS`, :class:`SSBroyden` (the self-scaled
Broyden family, :func:`broyden_update`; the line search :func:`strong_wolfe`).

And one first-order optimizer (``loss.backward()`` then ``step()``), also known to the Trainer as ``"soap"``:

* :class:`SOAP`: Adam in the eigenbasis of Shampoo's Kronecker-factored preconditioner (Vyas et al. 2024).

Called without parameters they give a spec for the Trainer: ``Trainer(..., optimizer=pk.optim.ConFIG("adam",
lr=1e-3))``; the Trainer also knows them by name (``"multiadam"``, ``"config"``, ``"mconfig"``, ``"pcgrad"``,
``"bfgs"``, ``"ssbfgs"``, ``"ssbroyden"``).
:func:`conflict_free_direction` and :func:`per_loss_gradients` are the building blocks.
"""

from .broyden import broyden_update
from .config import ConFIG
from .conflict_free import conflict_free_direction
from .direction import DirectionOptimizer
from .gradients import per_loss_gradients
from .line_search import LineSearchResult, strong_wolfe
from .mconfig import MConFIG
from .multi_loss import MultiLossOptimizer
from .multiadam import MultiAdam
from .pcgrad import PCGrad
from .quasi_newton import BFGS, SSBFGS, QuasiNewton, SSBroyden
from .soap import SOAP
from .spec import OptimizerSpec

__all__ = ["BFGS", "SOAP", "SSBFGS", "ConFIG", "DirectionOptimizer", "LineSearchResult", "MConFIG", "MultiAdam",
           "MultiLossOptimizer", "OptimizerSpec", "PCGrad", "QuasiNewton", "SSBroyden", "broyden_update",
           "conflict_free_direction", "per_loss_gradients", "strong_wolfe"]
