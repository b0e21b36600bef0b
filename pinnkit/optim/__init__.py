"""Optimizers for sums of loss terms: MultiAdam, ConFIG, M-ConFIG, PCGrad, and L-BFGS through the Trainer.

Every optimizer here is a :class:`torch.optim.Optimizer` that takes the *named* losses of a step
(:meth:`MultiLossOptimizer.step_losses`) and does its own backward pass(es):

* :class:`MultiAdam`: Adam moments per loss group (PDE | conditions by default); scale-invariant per group.
* :class:`ConFIG`: the conflict-free direction of the per-loss gradients, stepped by any torch optimizer.
* :class:`MConFIG`: M-ConFIG, one loss backpropagated per step, momentum per loss, ConFIG on the momenta.
* :class:`PCGrad`: projecting conflicting gradients (baseline).

And one first-order optimizer (``loss.backward()`` then ``step()``), also known to the Trainer as ``"soap"``:

* :class:`SOAP`: Adam in the eigenbasis of Shampoo's Kronecker-factored preconditioner (Vyas et al. 2024).

Called without parameters they give a spec for the Trainer: ``Trainer(..., optimizer=pk.optim.ConFIG("adam",
lr=1e-3))``; the Trainer also knows them by name (``"multiadam"``, ``"config"``, ``"mconfig"``, ``"pcgrad"``).
:func:`conflict_free_direction` and :func:`per_loss_gradients` are the building blocks.
"""

from .config import ConFIG
from .conflict_free import conflict_free_direction
from .direction import DirectionOptimizer
from .gradients import per_loss_gradients
from .mconfig import MConFIG
from .multi_loss import MultiLossOptimizer
from .multiadam import MultiAdam
from .pcgrad import PCGrad
from .soap import SOAP
from .spec import OptimizerSpec

__all__ = ["SOAP", "ConFIG", "DirectionOptimizer", "MConFIG", "MultiAdam", "MultiLossOptimizer", "OptimizerSpec",
           "PCGrad", "conflict_free_direction", "per_loss_gradients"]
