"""The multilayer perceptron :class:`MLP`, its input scaling :class:`InputScaling`, and the checks and
initialisation shared with :class:`~pinnkit.nets.modified_mlp.ModifiedMLP`.

Conventions shared by the networks of :mod:`pinnkit.nets`
---------------------------------------------------------
* Inputs are ``(..., inputs)`` tensors (usually ``(N, inputs)`` points; a single point ``(inputs,)`` under
  ``torch.func.vmap``); outputs are ``(..., outputs)``. A wrong last dimension is a ``ValueError``.
* Networks are plain ``nn.Module``s built in torch's default dtype; ``.double()`` gives a float64 network.
  Input bounds are kept as float64 buffers and cast to the input's dtype in ``forward``, so that converting a
  network to float64 loses nothing of the bounds.
* ``config`` is a JSON-serialisable dict of the constructor's arguments (see :mod:`pinnkit.nets.registry`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ..checks import check_choice, check_positive_int
from ..derivatives.multi_index import MultiIndex
from ..derivatives.protocol import Compiled, Jet
from .activations import activation as as_activation
from .activations import activation_name, valid_names
from .registry import net_spec, register_net
from .taylor_mode import check_mlp_for_jets, mlp_directional_jet, mlp_jet

#: Weight initialisations: Glorot (Xavier) normal or uniform with zero biases, or torch's default.
INITS = ("glorot", "glorot_uniform", "default")


# ---------------------------------------------------------------------------------------------------- checks
def check_points(x, inputs: int, name: str = "x") -> None:
    """Raise unless ``x`` is a tensor of shape ``(..., inputs)``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a tensor of shape (..., {inputs}); got {type(x).__name__}")
    if x.ndim == 0 or x.shape[-1] != inputs:
        raise ValueError(f"{name} must have shape (..., {inputs}) (last dimension = inputs = {inputs}); "
                         f"got shape {tuple(x.shape)}")


def check_init(init) -> str:
    """``init`` as one of :data:`INITS` (case-insensitive)."""
    return check_choice(init, "init", INITS)


def as_bounds(value, inputs: int | None = None, name: str = "input_bounds") -> Tensor:
    """``value`` (array-like or tensor) as a float64 CPU tensor of shape ``(2, inputs)`` with finite entries and
    ``value[0] < value[1]`` in every column (row 0 the lower, row 1 the upper bounds, like a geometry's
    ``bbox``). ``inputs=None`` accepts any number of columns."""
    shape = f"(2, {inputs})" if inputs is not None else "(2, d)"
    if isinstance(value, Tensor):
        if value.is_complex():
            raise ValueError(f"{name} must be real; got dtype {value.dtype}")
        b = value.detach().to(device="cpu", dtype=torch.float64)
    else:
        try:
            b = torch.from_numpy(np.array(value, dtype=np.float64))
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a {shape} array of real numbers (row 0 lower, row 1 upper bounds); "
                             f"got {value!r}") from None
    if b.ndim != 2 or b.shape[0] != 2 or b.shape[1] == 0 or (inputs is not None and b.shape[1] != inputs):
        raise ValueError(f"{name} must have shape {shape} (row 0 lower, row 1 upper bounds, e.g. a geometry's "
                         f"bbox); got shape {tuple(b.shape)}")
    if not bool(torch.isfinite(b).all()):
        raise ValueError(f"{name} must be finite; got {b.tolist()}")
    bad = torch.nonzero(b[0] >= b[1]).flatten()
    if len(bad):
        i = int(bad[0])
        raise ValueError(f"{name} must have lower < upper in every coordinate (row 0 lower, row 1 upper); "
                         f"coordinate {i} has lower {float(b[0, i])} >= upper {float(b[1, i])}")
    return b.clone()


def check_embedding(embedding, inputs: int) -> nn.Module | None:
    """Validate an embedding module for a network of ``inputs`` inputs: it must have a positive integer
    ``outputs`` attribute and, if it has an ``inputs`` attribute, it must equal ``inputs``."""
    if embedding is None:
        return None
    if not isinstance(embedding, nn.Module):
        raise ValueError(f"embedding must be an nn.Module or None; got {type(embedding).__name__}")
    out = getattr(embedding, "outputs", None)
    if isinstance(out, bool) or not isinstance(out, int) or out < 1:
        raise ValueError(f"embedding must have a positive integer attribute `outputs` (its output dimension), as "
                         f"FourierFeatures and PeriodicEmbedding do; {type(embedding).__name__} has {out!r}")
    emb_inputs = getattr(embedding, "inputs", None)
    if emb_inputs is not None and emb_inputs != inputs:
        raise ValueError(f"embedding.inputs = {emb_inputs} must equal inputs = {inputs}")
    return embedding


def init_linear_(layer: nn.Linear, init: str) -> nn.Linear:
    """Initialise ``layer`` in place: ``"glorot"`` draws weights from ``N(0, 2 / (fan_in + fan_out))``,
    ``"glorot_uniform"`` from ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))`` (same variance), both with
    zero biases (Glorot & Bengio 2010); ``"default"`` keeps torch's initialisation. Uses torch's global RNG."""
    if init == "default":
        return layer
    with torch.no_grad():
        if init == "glorot":
            nn.init.xavier_normal_(layer.weight)
        elif init == "glorot_uniform":
            nn.init.xavier_uniform_(layer.weight)
        else:
            raise ValueError(f"init must be one of {list(INITS)}; got {init!r}")
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    return layer


# ---------------------------------------------------------------------------------------------------- modules
@register_net
class InputScaling(nn.Module):
    r"""Affine map of the box ``[lower, upper]`` onto ``[-1, 1]^d``, coordinate by coordinate:

    .. math:: \xi_i = \frac{(x_i - \ell_i) - (u_i - x_i)}{u_i - \ell_i} = 2 \frac{x_i - \ell_i}{u_i - \ell_i} - 1,

    written so that ``x = lower`` maps to exactly ``-1`` and ``x = upper`` to exactly ``+1`` in floating point.

    ``bounds``: ``(2, d)`` array-like or tensor, row 0 the lower and row 1 the upper corner (a geometry's
    ``bbox``). They are float64 buffers ``lower`` and ``upper`` (not parameters), cast to the input's dtype in
    ``forward``. Input ``(..., d)``, output ``(..., d)``.
    """

    def __init__(self, bounds):
        super().__init__()
        b = as_bounds(bounds, None, "bounds")
        self.inputs = self.outputs = int(b.shape[1])
        self.register_buffer("lower", b[0].clone())
        self.register_buffer("upper", b[1].clone())

    def forward(self, x: Tensor) -> Tensor:
        check_points(x, self.inputs)
        lo, hi = self.lower.to(x.dtype), self.upper.to(x.dtype)
        return ((x - lo) - (hi - x)) / (hi - lo)

    def extra_repr(self) -> str:
        return f"lower={self.lower.tolist()}, upper={self.upper.tolist()}"

    @property
    def bounds(self) -> Tensor:
        """``(2, d)`` float64 copy of the bounds."""
        return torch.stack([self.lower, self.upper]).to(torch.float64)

    @property
    def config(self) -> dict:
        """Constructor arguments, JSON-serialisable: ``{"bounds": [[lower...], [upper...]]}``."""
        return {"bounds": self.bounds.tolist()}


class _FeedForward(nn.Module):
    """What :class:`MLP` and :class:`~pinnkit.nets.modified_mlp.ModifiedMLP` share: argument checks, the front
    end ``x -> embedding(scaling(x))`` and the configuration."""

    def __init__(self, inputs, outputs, width, depth, activation, input_bounds, embedding, init):
        super().__init__()
        self.inputs = check_positive_int(inputs, "inputs")
        self.outputs = check_positive_int(outputs, "outputs")
        self.width = check_positive_int(width, "width")
        self.depth = check_positive_int(depth, "depth")
        self.init = check_init(init)
        self.activation = as_activation(activation)
        scaling = None if input_bounds is None else InputScaling(as_bounds(input_bounds, self.inputs))
        self.input_scaling = scaling
        self.embedding = check_embedding(embedding, self.inputs)
        #: Width of what the first layers see: the embedding's ``outputs``, else ``inputs``.
        self.features = self.inputs if embedding is None else int(embedding.outputs)

    def _linear(self, fan_in: int, fan_out: int) -> nn.Linear:
        return init_linear_(nn.Linear(fan_in, fan_out), self.init)

    def _front(self, x: Tensor) -> Tensor:
        """Check ``x`` (..., inputs), then scale it to ``[-1, 1]`` and embed it (where configured)."""
        check_points(x, self.inputs)
        if self.input_scaling is not None:
            x = self.input_scaling(x)
        if self.embedding is not None:
            x = self.embedding(x)
        return x

    @property
    def config(self) -> dict:
        """Constructor arguments as a JSON-serialisable dict (activation by name, bounds as nested lists, the
        embedding as a nested ``{"class", "config"}`` spec). Raises ``ValueError`` if the activation was given
        as a module that has no name (see :func:`~pinnkit.nets.activations.activation_name`) or the embedding
        is not one of pinnkit's nets."""
        name = activation_name(self.activation)
        if name is None:
            raise ValueError(f"{type(self).__name__}.config: the activation {self.activation!r} has no name, so the "
                             f"network cannot be rebuilt from a config; build it with activation= one of "
                             f"{valid_names()} (or save the whole module with torch.save)")
        embedding = None
        if self.embedding is not None:
            embedding = net_spec(self.embedding)
        return {
            "inputs": self.inputs,
            "outputs": self.outputs,
            "width": self.width,
            "depth": self.depth,
            "activation": name,
            "input_bounds": None if self.input_scaling is None else self.input_scaling.bounds.tolist(),
            "embedding": embedding,
            "init": self.init,
        }


@register_net(nested=("embedding",))
class MLP(_FeedForward):
    r"""Fully connected network: ``depth`` hidden layers of ``width`` neurons, activation after each hidden
    layer, linear output.

    .. math::
        h_0 = e(s(x)), \qquad h_k = \sigma(h_{k-1} W_k^\top + b_k) \quad (k = 1, \dots, \text{depth}), \qquad
        y = h_{\text{depth}} W_{\text{out}}^\top + b_{\text{out}},

    where ``s`` is the input scaling (identity unless ``input_bounds`` is given) and ``e`` the embedding
    (identity unless ``embedding`` is given).

    Arguments
    ---------
    inputs, outputs: input and output dimensions.
    width, depth: neurons per hidden layer and number of hidden layers (positive integers).
    activation: a name (``"tanh"``, ``"sin"``, ``"relu"``, ``"gelu"``, ``"silu"``/``"swish"``, ``"softplus"``,
        ``"sigmoid"``, ``"elu"``), an ``nn.Module`` or an ``nn.Module`` class (see
        :func:`~pinnkit.nets.activations.activation`). One module, shared by all hidden layers (so a module with
        a trainable parameter, e.g. ``nn.PReLU()``, has one parameter for the whole network).
    input_bounds: ``None`` or ``(2, inputs)`` array-like / tensor (row 0 lower, row 1 upper, e.g. a geometry's
        ``.bbox``): inputs are first mapped affinely onto ``[-1, 1]`` (:class:`InputScaling`, buffers).
    init: ``"glorot"`` (Xavier normal weights, zero biases; the default), ``"glorot_uniform"`` or ``"default"``
        (torch's own). Random draws use torch's global RNG: seed it with ``torch.manual_seed``.
    embedding: ``None`` or a module with an integer attribute ``outputs`` (e.g.
        :class:`~pinnkit.nets.embeddings.FourierFeatures`), applied after the input scaling, so it sees
        coordinates in ``[-1, 1]`` when ``input_bounds`` is given (a coordinate spanning the whole box then has
        period 2 for a :class:`~pinnkit.nets.embeddings.PeriodicEmbedding`). The first layer has
        ``embedding.outputs`` inputs.

    Input ``(..., inputs)`` (e.g. ``(N, inputs)``, or ``(inputs,)`` under ``torch.func.vmap``), output
    ``(..., outputs)``. Modules: ``input_scaling``, ``embedding`` (or ``None``), ``hidden`` (``nn.ModuleList`` of
    ``nn.Linear``), ``output`` (``nn.Linear``), ``activation``.
    """

    def __init__(self, inputs: int, outputs: int, width: int = 64, depth: int = 4,
                 activation: str | nn.Module | type[nn.Module] = "tanh", input_bounds=None, init: str = "glorot",
                 embedding: nn.Module | None = None):
        super().__init__(inputs, outputs, width, depth, activation, input_bounds, embedding, init)
        sizes = [self.features] + [self.width] * self.depth
        self.hidden = nn.ModuleList(self._linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.output = self._linear(self.width, self.outputs)

    def forward(self, x: Tensor) -> Tensor:
        """``(..., inputs) -> (..., outputs)``."""
        h = self._front(x)
        for layer in self.hidden:
            h = self.activation(layer(h))
        return self.output(h)

    def check_jet(self, where: str = "net") -> None:
        """Taylor mode (:mod:`pinnkit.derivatives.protocol`) needs the MLP's own forward pass (a subclass that
        changes it must provide its own jet), no embedding and an activation with closed-form derivatives; a
        ``ValueError`` naming ``where`` otherwise."""
        if type(self).forward is not MLP.forward or type(self)._front is not _FeedForward._front:
            raise ValueError(f"{where}: {type(self).__name__} changes the MLP's forward pass, so MLP.jet does not "
                             f"describe it; give it a jet(x, multi_indices, compiled) of its own")
        check_mlp_for_jets(self, where)

    #: Its jet is forward arithmetic only: a compiled backend traces a whole residual evaluation through it.
    jet_traceable = True

    def jet(self, x: Tensor, multi_indices: Sequence[MultiIndex], compiled: Compiled | None = None) -> Jet:
        """The jet ``{beta: (N, outputs), (outputs,) or None}`` at points ``x`` (N, inputs) over the closure of
        ``multi_indices`` (:func:`~pinnkit.nets.taylor_mode.mlp_jet`, through ``compiled`` if given)."""
        function = mlp_jet if compiled is None else compiled(mlp_jet)
        return function(self, x, multi_indices)

    def directional_jet(self, x: Tensor, v: Tensor, order: int) -> list[Tensor]:
        """``[u, D_1, ..., D_order]``: derivatives of ``t -> net(x + t v)`` at 0 for points ``x`` (N, d) and
        directions ``v`` (K, d) or (N, K, d); ``u`` (N, 1, outputs), ``D_k`` (N, K, outputs)
        (:func:`~pinnkit.nets.taylor_mode.mlp_directional_jet`, the directional-jet protocol of
        :mod:`pinnkit.derivatives.stochastic`)."""
        self.check_jet()
        return mlp_directional_jet(self, x, v, order)
