"""Neural networks as plain ``torch.nn.Module`` objects: MLPs, embeddings, hard-constraint transforms.

* :class:`MLP` (``depth`` hidden layers of ``width`` neurons, Glorot initialisation, optional scaling of the
  inputs' box onto ``[-1, 1]`` and optional embedding) and :class:`ModifiedMLP` (Wang, Teng & Perdikaris 2021).
* Embeddings: :class:`FourierFeatures` (random Fourier features, Tancik et al. 2020) and
  :class:`PeriodicEmbedding` (exactly periodic coordinates); :class:`InputScaling` (box onto ``[-1, 1]``).
* :class:`HardConstraint`: ``u = g + d * net`` imposes ``u = g`` exactly where ``d = 0``; :class:`Expression`
  writes ``g`` and ``d`` as formulas (``"-sin(pi*x)"``) that checkpoints can hold, :class:`PerOutput` one per
  output column; :class:`BallDistance` is a ball's distance factor with a directional jet (high dimensions).
* :class:`DeepONet`: branch and trunk networks for operator learning, aligned (M, N, k) or unaligned points.
* :class:`TimeWindows`: one network per time window (what time-marching trains); :class:`LocalTime` runs a
  network in its window's local time.
* :func:`activation`: activation modules by name (``"tanh"``, ``"sin"``, ``"relu"``, ``"gelu"``, ``"silu"`` /
  ``"swish"``, ``"softplus"``, ``"sigmoid"``, ``"elu"``); :class:`Sine`.
* Checkpoints: every net (a :class:`HardConstraint` when its functions are expressions) has a JSON-serialisable
  ``config``; :func:`net_spec` and
  :func:`build_net` rebuild it (then load the state dict); the decorator :func:`register_net` makes a user's own
  network class rebuildable too.

Networks map ``(..., inputs)`` to ``(..., outputs)``, are built in torch's default dtype (``.double()`` for
float64) and draw their random initial weights from torch's global RNG. Conventions are documented in
:mod:`pinnkit.nets.mlp`.

>>> import torch
>>> from pinnkit.nets import MLP
>>> net = MLP(2, 1, width=32, depth=3, input_bounds=[[-1.0, 0.0], [1.0, 1.0]])
>>> net(torch.rand(100, 2)).shape
torch.Size([100, 1])
"""

from .activations import ACTIVATIONS, ALIASES, Sine, activation, activation_name
from .ball_distance import BallDistance
from .deeponet import DeepONet
from .embeddings import FourierFeatures, PeriodicEmbedding
from .expression import Expression
from .hard_constraint import HardConstraint
from .mlp import INITS, MLP, InputScaling
from .modified_mlp import ModifiedMLP
from .per_output import PerOutput
from .registry import NETS, build_net, net_spec, register_net
from .time_windows import LocalTime, TimeWindows

__all__ = [
    "ACTIVATIONS", "ALIASES", "BallDistance", "INITS", "MLP", "LocalTime", "NETS", "FourierFeatures",
    "HardConstraint", "InputScaling", "DeepONet", "Expression", "ModifiedMLP", "PerOutput", "PeriodicEmbedding",
    "Sine", "TimeWindows", "activation", "activation_name", "build_net", "net_spec", "register_net",
]
