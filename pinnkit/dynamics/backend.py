"""The solver backend: torchdiffeq for ODEs, torchsde for SDEs, behind two functions.

Nothing outside this file imports torchdiffeq or torchsde or knows their conventions (torchdiffeq calls
``func(t, y)`` on a module; torchsde calls ``sde.f(t, y)`` and ``sde.g(t, y)`` on an object with ``noise_type``
and ``sde_type`` attributes). The rest of :mod:`pinnkit.dynamics` calls :func:`solve_ode` and
:func:`solve_sde` with fields ``f(t, u)`` on state batches ``(B, d)``, so another backend would replace this
file only.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..checks import check_choice

ADAPTIVE_ODE_METHODS = ("dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun")
FIXED_STEP_ODE_METHODS = ("euler", "midpoint", "heun2", "heun3", "rk4", "explicit_adams", "implicit_adams")
ODE_METHODS = ADAPTIVE_ODE_METHODS + FIXED_STEP_ODE_METHODS
NOISE_TYPES = ("diagonal", "general")
SDE_TYPES = ("ito", "stratonovich")
# methods of torchsde for each calculus, and the noise types each accepts
SDE_METHODS = {
    "ito": {"euler": NOISE_TYPES, "milstein": ("diagonal",), "srk": ("diagonal",)},
    "stratonovich": {"midpoint": NOISE_TYPES, "heun": NOISE_TYPES, "euler_heun": NOISE_TYPES,
                     "reversible_heun": NOISE_TYPES, "milstein": ("diagonal",)},
}
DEFAULT_SDE_METHOD = {"ito": "euler", "stratonovich": "midpoint"}


def check_times(t: Tensor, name: str = "t") -> Tensor:
    """A 1-D tensor of at least two strictly increasing, finite times."""
    if not isinstance(t, Tensor):
        raise ValueError(f"{name} must be a 1-D torch tensor of times; got {type(t).__name__}")
    if t.ndim != 1 or t.numel() < 2:
        raise ValueError(f"{name} must be a 1-D tensor of at least two times; got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all() or not bool((t[1:] > t[:-1]).all()):
        raise ValueError(f"{name} must be finite and strictly increasing")
    return t


class _CountingField(nn.Module):
    """The field as torchdiffeq's ``func(t, y)``; counts evaluations in :attr:`nfe`."""

    def __init__(self, field: nn.Module):
        super().__init__()
        self.field = field
        self.nfe = 0

    def forward(self, t: Tensor, y: Tensor) -> Tensor:
        self.nfe += 1
        out = self.field(t, y)
        if out.shape != y.shape:
            raise ValueError(f"the vector field returned shape {tuple(out.shape)} for states of shape "
                             f"{tuple(y.shape)}; it must return one rate per state component")
        return out


def solve_ode(field: nn.Module, u0: Tensor, t: Tensor, *, method: str, rtol: float, atol: float,
              step_size: float | None, adjoint: bool, adjoint_rtol: float, adjoint_atol: float,
              counter: list[int] | None = None) -> Tensor:
    """States ``(T, B, d)`` of ``du/dt = field(t, u)`` from ``u0`` ``(B, d)`` at the times ``t`` ``(T,)``.

    ``adjoint=True`` computes gradients by solving the adjoint ODE backwards in time (memory independent of the
    number of steps); otherwise gradients flow through the solver's operations (direct backpropagation).
    ``counter`` (a one-element list) receives the number of field evaluations of the forward solve.
    """
    import torchdiffeq

    func = _CountingField(field)
    options = {"step_size": step_size} if step_size is not None else None
    if adjoint:
        params = tuple(p for p in field.parameters() if p.requires_grad)
        out = torchdiffeq.odeint_adjoint(func, u0, t, rtol=rtol, atol=atol, method=method, options=options,
                                         adjoint_rtol=adjoint_rtol, adjoint_atol=adjoint_atol,
                                         adjoint_options=options, adjoint_params=params)
    else:
        out = torchdiffeq.odeint(func, u0, t, rtol=rtol, atol=atol, method=method, options=options)
    if counter is not None:
        counter[0] = func.nfe
    return out


class _TorchsdeSystem(nn.Module):
    """Drift and diffusion under torchsde's names ``f`` and ``g``, with its ``noise_type`` and ``sde_type``."""

    def __init__(self, drift: nn.Module, diffusion: nn.Module, noise_type: str, sde_type: str):
        super().__init__()
        self.drift, self.diffusion = drift, diffusion
        self.noise_type, self.sde_type = noise_type, sde_type

    def f(self, t: Tensor, y: Tensor) -> Tensor:
        return self.drift(t, y)

    def g(self, t: Tensor, y: Tensor) -> Tensor:
        return self.diffusion(t, y)


def check_sde_method(method: str | None, noise: str, sde_type: str) -> str:
    """The solver method for ``(noise, sde_type)``: ``method`` if torchsde has it for them, else an error."""
    sde_type, noise = check_choice(sde_type, "sde_type", SDE_TYPES), check_choice(noise, "noise", NOISE_TYPES)
    if method is None:
        return DEFAULT_SDE_METHOD[sde_type]
    methods = SDE_METHODS[sde_type]
    if method not in methods:
        raise ValueError(f"method {method!r} does not solve {sde_type} SDEs; choose one of {sorted(methods)}")
    if noise not in methods[method]:
        raise ValueError(f"method {method!r} does not handle {noise} noise; for {noise} noise use one of "
                         f"{sorted(m for m, kinds in methods.items() if noise in kinds)}")
    return method


def solve_sde(drift: nn.Module, diffusion: nn.Module, u0: Tensor, t: Tensor, *, noise: str, sde_type: str,
              method: str, dt: float, adjoint: bool, brownian_size: int, seed: int | None) -> Tensor:
    """Sample paths ``(T, B, d)`` of ``du = drift(t, u) dt + diffusion(t, u) dW`` from ``u0`` ``(B, d)``.

    ``diffusion`` returns ``(B, d)`` for diagonal noise (one Brownian motion per component) and ``(B, d, m)`` for
    general noise (``m = brownian_size`` Brownian motions). ``seed`` fixes the Brownian paths (the same seed,
    times and batch give the same noise), ``None`` draws fresh ones from torch's generator.
    """
    import torchsde

    system = _TorchsdeSystem(drift, diffusion, noise, sde_type)
    bm = None
    if seed is not None:
        levy = "space-time" if method == "srk" else "none"
        bm = torchsde.BrownianInterval(t0=float(t[0]), t1=float(t[-1]), size=(u0.shape[0], brownian_size),
                                       dtype=u0.dtype, device=u0.device, entropy=seed,
                                       levy_area_approximation=levy)
    solve: Callable = torchsde.sdeint_adjoint if adjoint else torchsde.sdeint
    return solve(system, u0, t, bm=bm, method=method, dt=dt)


def default_dt(t: Tensor, steps: int = 100) -> float:
    """A step of ``(t[-1] - t[0]) / steps``, no longer than the shortest gap between output times."""
    span = float(t[-1] - t[0])
    gap = float((t[1:] - t[:-1]).min())
    return min(span / steps, gap) if math.isfinite(gap) else span / steps
