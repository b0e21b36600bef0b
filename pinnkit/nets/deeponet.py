r"""Deep operator networks (Lu, Jin, Pang, Zhang & Karniadakis, Nature Machine Intelligence 2021).

A DeepONet approximates an operator :math:`G: v \mapsto u` from the values of the input function ``v`` at ``m``
fixed sensors :math:`v(s_1), \dots, v(s_m)` (the *branch* input) and a point ``x`` where the output function is
evaluated (the *trunk* input):

.. math:: G(v)_j(x) = \sum_{i=1}^{p} b_{ji}\big(v(s_1), \dots, v(s_m)\big)\, t_{ji}(x) + b_{0,j},
          \qquad j = 1, \dots, k,

with branch features :math:`b` and trunk features :math:`t` (``p`` per output) and a trainable bias
:math:`b_{0,j}` per output.

Layouts of the points (``M`` functions):

* *aligned* (Cartesian product): points ``x`` (N, d) shared by all functions; output (M, N, k). The trunk runs on
  the ``N`` points once, whatever ``M``, and the contraction is one (M, p) x (p, N) product per output.
* *unaligned*: points ``x`` (M, N, d), one set per function; output (M, N, k).

Several outputs (``k > 1``) either *split* one branch and one trunk of ``k p`` features into ``k`` groups of
``p`` (``multi_output="split"``, cheap) or use ``k`` *independent* branch/trunk pairs of ``p`` features each
(``multi_output="independent"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

from ..checks import check_bool, check_choice, check_positive_int
from ..derivatives.multi_index import MultiIndex, jet_closure, normalise
from ..derivatives.protocol import Compiled, Jet
from .activation_derivatives import smooth_activation_name
from .activations import activation as as_activation
from .activations import activation_name, valid_names
from .mlp import MLP, check_init
from .registry import register_net
from .taylor_mode import mlp_jet

MULTI_OUTPUT = ("split", "independent")


def _layer_sizes(sizes, name: str) -> list[int]:
    """``sizes`` as ``[inputs, hidden..., features]`` with equal hidden widths (at least one hidden layer)."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) < 3:
        raise ValueError(f"{name} must be a list of layer sizes [inputs, width, ..., features] with at least one "
                         f"hidden layer, e.g. [50, 128, 128, 128]; got {sizes!r}")
    out = [check_positive_int(s, f"{name} sizes") for s in sizes]
    hidden = out[1:-1]
    if any(h != hidden[0] for h in hidden):
        raise ValueError(f"{name}: hidden layers must all have the same width; got {sizes!r}")
    return out


@register_net
class DeepONet(nn.Module):
    r"""DeepONet with a fully connected branch and trunk; see the module docstring for the mathematics.

    Arguments
    ---------
    branch: layer sizes ``[m, width, ..., p]``: ``m`` sensors, equal hidden widths, ``p`` features per output.
    trunk: layer sizes ``[d, width, ..., p]``: ``d`` coordinates; the last size must equal the branch's.
    outputs: number ``k`` of output functions.
    activation: activation by name (see :func:`~pinnkit.nets.activation`), shared by branch and trunk.
    multi_output: ``"split"`` (one branch and trunk of ``k p`` features) or ``"independent"`` (``k`` pairs);
        irrelevant for ``k = 1``.
    trunk_bounds: ``None`` or the ``(2, d)`` box of the coordinates (a geometry's ``bbox``), mapped onto
        ``[-1, 1]`` before the trunk.
    trunk_activation_last: apply the activation to the trunk's features too (the original DeepONet and DeepXDE
        do); the branch's last layer is always linear.
    init: weight initialisation (see :data:`~pinnkit.nets.INITS`).

    ``forward(v, x)``: sensor values ``v`` (M, m) and points ``x`` (N, d) (aligned) or (M, N, d) (unaligned);
    returns (M, N, k). Parameters are drawn from torch's global RNG.
    """

    def __init__(self, branch: Sequence[int], trunk: Sequence[int], outputs: int = 1, activation: str = "tanh",
                 multi_output: str = "split", trunk_bounds=None, trunk_activation_last: bool = True,
                 init: str = "glorot"):
        super().__init__()
        self.branch_sizes = _layer_sizes(branch, "branch")
        self.trunk_sizes = _layer_sizes(trunk, "trunk")
        if self.branch_sizes[-1] != self.trunk_sizes[-1]:
            raise ValueError(f"branch and trunk must end in the same number of features p; got branch {branch!r} and "
                             f"trunk {trunk!r}")
        self.outputs = check_positive_int(outputs, "outputs")
        multi_output = check_choice(multi_output, "multi_output", MULTI_OUTPUT)
        self.multi_output = multi_output
        self.trunk_activation_last = check_bool(trunk_activation_last, "trunk_activation_last")
        self.init = check_init(init)
        self.activation = as_activation(activation)
        if activation_name(self.activation) is None:
            raise ValueError(f"activation must be one of {valid_names()} for a DeepONet; got {activation!r}")
        self.sensors, self.inputs, self.features = self.branch_sizes[0], self.trunk_sizes[0], self.branch_sizes[-1]
        pairs = 1 if multi_output == "split" else self.outputs
        width = self.features * (self.outputs if multi_output == "split" else 1)

        def mlp(sizes, bounds=None):
            return MLP(sizes[0], width, width=sizes[1], depth=len(sizes) - 2, activation=self.activation,
                       input_bounds=bounds, init=self.init)

        self.branches = nn.ModuleList(mlp(self.branch_sizes) for _ in range(pairs))
        self.trunks = nn.ModuleList(mlp(self.trunk_sizes, trunk_bounds) for _ in range(pairs))
        self.bias = nn.Parameter(torch.zeros(self.outputs))

    def branch_features(self, v: Tensor) -> Tensor:
        """Branch features (M, k, p) of sensor values ``v`` (M, m)."""
        if not isinstance(v, Tensor) or v.ndim != 2 or v.shape[1] != self.sensors:
            shape = tuple(v.shape) if isinstance(v, Tensor) else type(v).__name__
            raise ValueError(f"v must be sensor values of shape (M functions, {self.sensors} sensors); got {shape}")
        b = torch.cat([net(v) for net in self.branches], dim=-1)
        return b.reshape(len(v), self.outputs, self.features)

    def trunk_features(self, x: Tensor) -> Tensor:
        """Trunk features (..., k, p) at points ``x`` (..., d)."""
        t = torch.cat([net(x) for net in self.trunks], dim=-1)
        if self.trunk_activation_last:
            t = self.activation(t)
        return t.reshape(*x.shape[:-1], self.outputs, self.features)

    #: Its trunk jet and branch are forward arithmetic only (MLPs), so that a compiled operator ``"taylor"``
    #: backend traces a whole residual evaluation through it (:func:`~pinnkit.derivatives.traceable_jet`).
    jet_traceable = True

    def check_trunk_jet(self, where: str = "net") -> None:
        """The operator ``"taylor"`` backend (:mod:`pinnkit.derivatives.operator_taylor`) needs trunks with a jet
        (MLPs without embedding, a smooth activation, also after the last layer); a ``ValueError`` naming ``where``
        otherwise."""
        for i, trunk in enumerate(self.trunks):
            trunk.check_jet(f"{where}: DeepONet trunk {i}")
        if self.trunk_activation_last:
            smooth_activation_name(self.activation, f"{where}: DeepONet.activation (applied to the trunk features)")

    def trunk_jet(self, x: Tensor, multi_indices: Iterable[MultiIndex], compiled: Compiled | None = None
                  ) -> dict[MultiIndex, Tensor]:
        """Trunk features and their derivatives ``{beta: (N, k, p)}`` at points ``x`` (N, d): the value and
        ``multi_indices`` (and, without a last activation, every lower order of the closure too); identically zero
        derivatives as zero tensors. Each trunk's jet is :func:`~pinnkit.nets.taylor_mode.mlp_jet` (through
        ``compiled`` if given)."""
        closed = jet_closure(multi_indices)
        last = self.activation if self.trunk_activation_last else None
        wanted = closed if last is None else sorted({(), *(normalise(a) for a in multi_indices)},
                                                   key=lambda a: (len(a), a))
        function = mlp_jet if compiled is None else compiled(mlp_jet)
        jets: list[Jet] = [function(trunk, x, wanted, last) for trunk in self.trunks]
        out: dict[MultiIndex, Tensor] = {}
        n = len(x)
        for beta in wanted:
            parts = []
            for jet in jets:
                value = jet[beta]
                width = jet[()].shape[-1]
                if value is None:
                    value = x.new_zeros(n, width)
                elif value.ndim == 1:
                    value = value.expand(n, width)
                parts.append(value)
            features = parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1)
            out[beta] = features.reshape(n, self.outputs, self.features)
        return out

    def forward(self, v: Tensor, x: Tensor) -> Tensor:
        """``G(v)(x)``: (M, m) sensor values and (N, d) or (M, N, d) points -> (M, N, k)."""
        if not isinstance(x, Tensor) or x.ndim not in (2, 3) or x.shape[-1] != self.inputs:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"x must be points of shape (N, {self.inputs}) shared by all functions or (M, N, "
                             f"{self.inputs}) per function; got {shape}")
        b = self.branch_features(v)
        if x.ndim == 3 and len(x) != len(v):
            raise ValueError(f"unaligned points x (M, N, d) need one set per function: M = {len(v)}; got {len(x)}")
        t = self.trunk_features(x)
        if x.ndim == 2:
            return torch.einsum("mkp,nkp->mnk", b, t) + self.bias
        return torch.einsum("mkp,mnkp->mnk", b, t) + self.bias

    @property
    def config(self) -> dict:
        """Constructor arguments, JSON-serialisable (see :mod:`pinnkit.nets.registry`)."""
        scaling = self.trunks[0].input_scaling
        return {"branch": list(self.branch_sizes), "trunk": list(self.trunk_sizes), "outputs": self.outputs,
                "activation": activation_name(self.activation), "multi_output": self.multi_output,
                "trunk_bounds": None if scaling is None else scaling.bounds.tolist(),
                "trunk_activation_last": self.trunk_activation_last, "init": self.init}
