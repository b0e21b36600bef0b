"""Universal differential equations: a known right-hand side plus neural terms (Rackauckas et al.,
"Universal differential equations for scientific machine learning", arXiv:2001.04385, 2020).

    du/dt = N(t, u; p) + Σ_k NN_k(u)

``N`` is the part of the mechanism that is known, with named physical parameters ``p`` (fixed or trained);
each ``NN_k`` is a network that learns a missing part from data. After training, a neural term can be read back
as a formula with :class:`~pinnkit.dynamics.SparseRegression`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import Tensor, nn

from ..checks import check_finite_float

Known = Callable[[Tensor, Tensor, Mapping[str, Tensor]], Tensor]


class UniversalODE(nn.Module):
    """The field ``f(t, u) = known(t, u, p) + Σ_k terms[k](u)``; solve it with :class:`NeuralODE`.

    Parameters
    ----------
    known : callable or None
        ``known(t, u, p)``: ``t`` a 0-d tensor, ``u`` states ``(B, d)``, ``p`` a mapping from parameter names to
        0-d tensors; returns ``(B, d)``. ``None`` for no known part.
    terms : nn.Module or mapping name -> nn.Module
        Networks of the state ``(B, d) -> (B, d)`` (or of ``[t, u]`` ``(B, 1 + d)`` with ``time_dependent``).
        A single module is named ``"nn"``.
    parameters : mapping name -> float
        Physical parameters of ``known`` and their initial values.
    trainable : bool or sequence of names
        Which parameters are trained with the networks: all (``True``, default), none (``False``), or those
        named. The others are constants (kept in the state dict, never given gradients).
    time_dependent : bool
        Give the terms the time as a first input column.
    """

    def __init__(self, known: Known | None = None, terms: nn.Module | Mapping[str, nn.Module] | None = None, *,
                 parameters: Mapping[str, float] | None = None, trainable: bool | Sequence[str] = True,
                 time_dependent: bool = False):
        super().__init__()
        if known is not None and not callable(known):
            raise ValueError(f"known must be a callable known(t, u, p) or None; got {type(known).__name__}")
        if terms is None:
            terms = {}
        elif isinstance(terms, nn.Module):
            terms = {"nn": terms}
        if not isinstance(terms, Mapping) or not all(isinstance(m, nn.Module) for m in terms.values()):
            raise ValueError("terms must be an nn.Module or a mapping from names to nn.Modules")
        if known is None and not terms:
            raise ValueError("a UniversalODE needs a known part, a neural term, or both; got neither")
        for name in terms:
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"term names must be identifiers; got {name!r}")
        parameters = dict(parameters or {})
        for name, value in parameters.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f"parameter names must be identifiers; got {name!r}")
            check_finite_float(value, f"parameters[{name!r}]")
        if isinstance(trainable, bool):
            trained = set(parameters) if trainable else set()
        else:
            trained = set(trainable)
            unknown = trained - set(parameters)
            if unknown:
                raise ValueError(f"trainable names {sorted(unknown)} are not parameters; parameters are "
                                 f"{sorted(parameters)}")
        if parameters and known is None:
            raise ValueError("physical parameters belong to the known part, but known is None")
        self.known = known
        self.terms = nn.ModuleDict(terms)
        self.time_dependent = bool(time_dependent)
        self.physical = nn.ParameterDict({
            name: nn.Parameter(torch.tensor(float(value)), requires_grad=name in trained)
            for name, value in parameters.items()})

    def extra_repr(self) -> str:
        params = ", ".join(f"{k}={float(v):.4g}{'' if v.requires_grad else ' (fixed)'}"
                           for k, v in self.physical.items())
        return f"parameters: {params or 'none'}"

    @property
    def parameter_values(self) -> dict[str, float]:
        """The physical parameters now, as floats."""
        return {name: float(p.detach()) for name, p in self.physical.items()}

    def known_rate(self, t: Tensor, u: Tensor) -> Tensor:
        """``known(t, u, p)`` ``(B, d)`` (zeros without a known part)."""
        if self.known is None:
            return torch.zeros_like(u)
        out = self.known(t, u, dict(self.physical.items()))
        if not isinstance(out, Tensor) or out.shape != u.shape:
            raise ValueError(f"known(t, u, p) must return a tensor of the states' shape {tuple(u.shape)}; got "
                             f"{tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__}")
        return out

    def term(self, name: str, u: Tensor, t: Tensor | float = 0.0) -> Tensor:
        """The neural term ``name`` at states ``u`` ``(B, d)`` (and time ``t`` if the terms depend on it)."""
        if name not in self.terms:
            raise ValueError(f"no term {name!r}; the terms are {list(self.terms)}")
        net = self.terms[name]
        if self.time_dependent:
            time = torch.as_tensor(t, dtype=u.dtype, device=u.device).reshape(1, 1).expand(u.shape[0], 1)
            out = net(torch.cat([time, u], dim=1))
        else:
            out = net(u)
        if out.shape != u.shape:
            raise ValueError(f"term {name!r} must return the states' shape {tuple(u.shape)}; got {tuple(out.shape)}")
        return out

    def neural_rate(self, t: Tensor, u: Tensor) -> Tensor:
        """``Σ_k NN_k`` at ``(t, u)``, ``(B, d)``."""
        out = torch.zeros_like(u)
        for name in self.terms:
            out = out + self.term(name, u, t)
        return out

    def forward(self, t: Tensor, u: Tensor) -> Tensor:
        return self.known_rate(t, u) + self.neural_rate(t, u)
