"""Neural SDEs: ``du = μ_θ(t, u) dt + σ_θ(t, u) dW`` with drift and diffusion modules (Li, Wong, Chen &
Duvenaud, "Scalable gradients for stochastic differential equations", AISTATS 2020; Kidger et al., "Neural
SDEs as infinite-dimensional GANs", ICML 2021), sampled by torchsde.

Noise. *Diagonal*: one Brownian motion per component, ``σ(t, u)`` is ``(B, d)`` and component ``i`` gets
``σ_i dW_i``. *General*: ``m`` Brownian motions, ``σ(t, u)`` is ``(B, d, m)`` and ``du_i = μ_i dt + Σ_j σ_ij dW_j``.

Calculus. In the *Itô* reading the diffusion is evaluated at the start of each step (the Euler–Maruyama
limit); in the *Stratonovich* reading at its midpoint. The same process has the Itô drift
``μ_i^Itô = μ_i^Strat + ½ Σ_{j,k} σ_kj ∂σ_ij/∂u_k`` (:meth:`NeuralSDE.ito_drift` computes it), so the two
calculi describe the same paths only with drifts related this way.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..checks import check_bool, check_choice, check_positive_float, check_positive_int, check_seed
from . import backend
from .vector_field import as_field


class NeuralSDE(nn.Module):
    """Sample ``du = drift(t, u) dt + diffusion(t, u) dW``: ``NeuralSDE(drift, diffusion)(u0, t)``.

    Parameters
    ----------
    drift, diffusion : nn.Module or callable
        ``f(t, u)`` with states ``u`` ``(B, d)``; the drift returns ``(B, d)``, the diffusion ``(B, d)``
        (diagonal noise) or ``(B, d, m)`` (general noise). Wrap networks of the state in
        :class:`~pinnkit.dynamics.Autonomous`.
    noise : str
        ``"diagonal"`` (default) or ``"general"``.
    sde_type : str
        ``"ito"`` (default) or ``"stratonovich"``.
    method : str, optional
        torchsde's solver; default ``"euler"`` (Euler–Maruyama) for Itô, ``"midpoint"`` for Stratonovich. Itô
        also has ``"milstein"`` and ``"srk"`` (diagonal noise); Stratonovich ``"heun"``, ``"euler_heun"``,
        ``"reversible_heun"`` and ``"milstein"`` (diagonal noise).
    dt : float
        Solver step (default 1e-2); output times need not be multiples of it.
    brownian_size : int, optional
        ``m``, the number of Brownian motions of general noise (required there).
    adjoint : bool
        Gradients by the stochastic adjoint (torchsde's ``sdeint_adjoint``) instead of direct backpropagation.
    """

    def __init__(self, drift: nn.Module | Callable, diffusion: nn.Module | Callable, *, noise: str = "diagonal",
                 sde_type: str = "ito", method: str | None = None, dt: float = 1e-2,
                 brownian_size: int | None = None, adjoint: bool = False):
        super().__init__()
        self.drift = as_field(drift, "drift")
        self.diffusion = as_field(diffusion, "diffusion")
        self.noise = noise = check_choice(noise, "noise", backend.NOISE_TYPES)
        self.sde_type = sde_type = check_choice(sde_type, "sde_type", backend.SDE_TYPES)
        self.method = backend.check_sde_method(method, noise, sde_type)
        self.dt = check_positive_float(dt, "dt")
        if noise == "general":
            if brownian_size is None:
                raise ValueError("brownian_size (the number m of Brownian motions) is required for general noise")
            brownian_size = check_positive_int(brownian_size, "brownian_size")
        elif brownian_size is not None:
            raise ValueError("brownian_size is for general noise; diagonal noise has one Brownian motion per "
                             "component")
        self.brownian_size, self.adjoint = brownian_size, check_bool(adjoint, "adjoint")

    def extra_repr(self) -> str:
        return f"noise={self.noise!r}, sde_type={self.sde_type!r}, method={self.method!r}, dt={self.dt}"

    def diffusion_matrix(self, t: Tensor, u: Tensor) -> Tensor:
        """``σ(t, u)`` as a matrix ``(B, d, m)`` (diagonal noise: ``diag(σ)``, ``m = d``), checked for shape."""
        g = self.diffusion(t, u)
        if self.noise == "diagonal":
            if g.shape != u.shape:
                raise ValueError(f"diagonal noise: the diffusion must return the states' shape {tuple(u.shape)}; "
                                 f"got {tuple(g.shape)}")
            return torch.diag_embed(g)
        expected = (*u.shape, self.brownian_size)
        if g.shape != expected:
            raise ValueError(f"general noise: the diffusion must return (B, d, m) = {expected}; got {tuple(g.shape)}")
        return g

    def ito_drift(self, t: Tensor, u: Tensor) -> Tensor:
        """The drift of the Itô form of this SDE, ``(B, d)``: the drift itself for Itô, and
        ``μ_i + ½ Σ_{j,k} σ_kj ∂σ_ij/∂u_k`` for Stratonovich (by automatic differentiation)."""
        if self.sde_type == "ito":
            return self.drift(t, u)
        with torch.enable_grad():
            x = u if u.requires_grad else u.detach().requires_grad_(True)
            g = self.diffusion_matrix(t, x)  # (B, d, m)
            rows = []
            for i in range(x.shape[1]):
                row = torch.zeros_like(x[:, 0])
                for j in range(g.shape[2]):
                    # ∂σ_ij/∂u (B, d) contracted with the column σ_:j (rows are independent across the batch)
                    grad = torch.autograd.grad(g[:, i, j].sum(), x, create_graph=True)[0]
                    row = row + (grad * g[:, :, j]).sum(dim=1)
                rows.append(row)
        return self.drift(t, x) + 0.5 * torch.stack(rows, dim=1)

    def forward(self, u0: Tensor, t: Tensor, *, seed: int | None = None) -> Tensor:
        """Paths at the times ``t`` ``(T,)``: ``(T, B, d)`` from ``u0`` ``(B, d)`` (or ``(T, d)`` from ``(d,)``).

        ``seed`` fixes the Brownian paths (common random numbers: the same seed gives the same noise for the
        same times, batch and dtype); ``None`` draws new ones from torch's global generator.
        """
        backend.check_times(t)
        if not isinstance(u0, Tensor) or u0.ndim not in (1, 2):
            raise ValueError(f"u0 must be a tensor of shape (d,) or (B, d); got "
                             f"{tuple(u0.shape) if isinstance(u0, Tensor) else type(u0).__name__}")
        if not u0.is_floating_point() or t.dtype != u0.dtype:
            raise ValueError(f"u0 and t must have the same floating dtype; got {u0.dtype} and {t.dtype}")
        seed = check_seed(seed, allow_none=True)
        single = u0.ndim == 1
        y0 = u0.unsqueeze(0) if single else u0
        self.diffusion_matrix(t[0], y0)  # shape check with a clear message before the solver's own
        m = self.brownian_size if self.noise == "general" else y0.shape[1]
        out = backend.solve_sde(self.drift, self.diffusion, y0, t, noise=self.noise, sde_type=self.sde_type,
                                method=self.method, dt=self.dt, adjoint=self.adjoint, brownian_size=m, seed=seed)
        return out[:, 0] if single else out
