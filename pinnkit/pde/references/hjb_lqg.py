r"""The Hamilton-Jacobi-Bellman equation of the linear-quadratic-Gaussian control problem (HJB-LQG; Han, Jentzen
and E, *Solving high-dimensional partial differential equations using deep learning*, PNAS 2018; a benchmark of
Shi et al., STDE, NeurIPS 2024): for :math:`t \in [0, T]`, :math:`x \in \mathbb{R}^d`,

.. math:: \partial_t u + \Delta_x u - \mu \|\nabla_x u\|^2 = 0, \qquad u(T, x) = g(x).

**Cole-Hopf.** With :math:`v = e^{-\mu u}`, :math:`\partial_t v = -\mu v\, \partial_t u`, :math:`\nabla v = -\mu v
\nabla u` and :math:`\Delta v = -\mu v\, \Delta u + \mu^2 v \|\nabla u\|^2`, so :math:`\partial_t v + \Delta v =
-\mu v\,(\partial_t u + \Delta u - \mu \|\nabla u\|^2) = 0`: the backward heat equation, whose solution is
:math:`v(t, x) = E[v(T, x + \sqrt2\, W_{T-t})]` (Feynman-Kac; :math:`\sqrt2 W` has generator :math:`\Delta`), hence

.. math:: u(t, x) = -\frac1\mu \log E\bigl[\exp\bigl(-\mu\, g(x + \sqrt{2 (T - t)}\, Z)\bigr)\bigr],
          \qquad Z \sim N(0, I_d).

:class:`HJBLQG` evaluates it by Monte Carlo for a radial terminal condition :math:`g(x) = h(\|x\|^2)`:

* ``terminal="log"``: :math:`g(x) = \log\bigl((1 + \|x\|^2) / 2\bigr)`, the benchmark's (no closed form);
* ``terminal="quadratic"``: :math:`g(x) = \|x\|^2`, for which the Gaussian integral factorises over the
  coordinates, :math:`E[e^{-a (x_i + \sigma Z_i)^2}] = (1 + 2a\sigma^2)^{-1/2} e^{-a x_i^2 / (1 + 2 a \sigma^2)}`
  with :math:`a = \mu`, :math:`\sigma^2 = 2 (T - t)`, so that

  .. math:: u(t, x) = \frac{d}{2\mu} \log\bigl(1 + 4\mu (T - t)\bigr) + \frac{\|x\|^2}{1 + 4\mu (T - t)}

  (:meth:`HJBLQG.closed_form`; an oracle for the Monte Carlo estimate).

The estimate (:meth:`HJBLQG.monte_carlo`) uses the same draws :math:`Z_m` at every point (common random numbers), so
that :math:`\|x + \sigma Z_m\|^2 = \|x\|^2 + 2\sigma\, x \cdot Z_m + \sigma^2 \|Z_m\|^2` is one matrix product
(N, d) x (d, M) instead of an (N, M, d) array, and antithetic pairs :math:`\pm Z_m`; it returns the standard error
of every point's value by the delta method, :math:`\mathrm{se}(u) = \mathrm{se}(\bar Y) / (\mu \bar Y)` for the
pair means :math:`Y = (e^{-\mu g(x + \sigma Z)} + e^{-\mu g(x - \sigma Z)}) / 2`. Float64 throughout, accumulated
in the log domain (a per-point shift), so that nothing under- or overflows.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ...checks import check_choice, check_int, check_positive_float, check_positive_int, check_seed

#: The terminal conditions :class:`HJBLQG` knows, as functions of :math:`r = \|x\|^2`.
TERMINALS = ("log", "quadratic")


class HJBLQG:
    r"""The HJB-LQG problem in ``dim`` dimensions on :math:`[0, T]`, ``horizon`` :math:`= T`, control strength
    ``mu`` :math:`= \mu`, terminal condition ``terminal`` (one of :data:`TERMINALS`; module docstring).

    Points are given as times ``t`` (N,) in :math:`[0, T]` (or a number, the same for every point) and positions
    ``x`` (N, dim); values come back as (N,), in ``x``'s dtype for :meth:`terminal_value` and
    :meth:`closed_form`, float64 for :meth:`monte_carlo`.
    """

    def __init__(self, dim: int, horizon: float = 1.0, mu: float = 1.0, terminal: str = "log"):
        self.dim = check_int(dim, "dim", minimum=1)
        self.horizon = check_positive_float(horizon, "horizon")
        self.mu = check_positive_float(mu, "mu")
        self.terminal = check_choice(terminal, "terminal", TERMINALS)

    def __repr__(self) -> str:
        return f"HJBLQG(dim={self.dim}, horizon={self.horizon}, mu={self.mu}, terminal={self.terminal!r})"

    def profile(self, r: Tensor) -> Tensor:
        r""":math:`h(r)` with :math:`g(x) = h(\|x\|^2)`: :math:`\log((1 + r) / 2)` or :math:`r`, elementwise."""
        return torch.log1p(r) - math.log(2.0) if self.terminal == "log" else r

    def terminal_value(self, x: Tensor) -> Tensor:
        """``g(x)`` at ``x`` (N, dim): (N,)."""
        return self.profile((self._points(x) ** 2).sum(-1))

    def closed_form(self, t: Tensor | float, x: Tensor) -> Tensor:
        r""":math:`u(t, x) = \frac{d}{2\mu}\log(1 + 4\mu(T - t)) + \|x\|^2 / (1 + 4\mu(T - t))` (N,), for
        ``terminal="quadratic"`` only (module docstring); differentiable in ``t`` and ``x``."""
        if self.terminal != "quadratic":
            raise ValueError(f"closed_form: the HJB-LQG solution has a closed form for terminal='quadratic' only; "
                             f"this problem has terminal={self.terminal!r} (use monte_carlo)")
        x = self._points(x)
        s = self.horizon - self._times(t, x)
        a = 1 + 4 * self.mu * s
        return self.dim / (2 * self.mu) * torch.log(a) + (x**2).sum(-1) / a

    def monte_carlo(self, t: Tensor | float, x: Tensor, samples: int = 100_000, seed: int = 0,
                    chunk: int = 4096) -> tuple[Tensor, Tensor]:
        r"""The Cole-Hopf solution by Monte Carlo (module docstring): ``(u, se)``, both (N,) float64, ``se`` the
        standard error of each ``u``.

        ``samples``: draws of :math:`Z` (rounded up to an even number: ``samples / 2`` antithetic pairs), the same
        at every point, from a CPU generator seeded by ``seed`` (so the draws do not depend on the device);
        ``chunk``: draws per pass (the memory is (points per pass, ``chunk``) float64, about 128 MiB).
        """
        samples = check_positive_int(samples, "samples")
        chunk = check_positive_int(chunk, "chunk")
        x = self._points(x).detach().to(torch.float64)
        s = self.horizon - self._times(t, x).detach().to(torch.float64)
        generator = torch.Generator().manual_seed(check_seed(seed))
        pairs = (samples + 1) // 2
        per_pass = max(1, chunk // 2)
        block = max(1, 2**24 // per_pass)  # points per pass
        sigma = torch.sqrt(2 * s)  # (N,)
        r0 = (x**2).sum(-1)
        shift = torch.full_like(r0, -math.inf)  # the log-domain shift c per point
        s1 = torch.zeros_like(r0)  # sum of Y e^{-c}
        s2 = torch.zeros_like(r0)  # sum of Y^2 e^{-2c}
        done = 0
        while done < pairs:
            m = min(per_pass, pairs - done)
            z = torch.randn(m, self.dim, generator=generator, dtype=torch.float64).to(x.device)
            zz = (z**2).sum(-1)
            for lo in range(0, x.shape[0], block):
                part = slice(lo, lo + block)
                sg = sigma[part, None]
                cross = 2 * sg * (x[part] @ z.T)  # (n, m)
                base = r0[part, None] + sg**2 * zz[None, :]
                plus = -self.mu * self.profile(base + cross)
                minus = -self.mu * self.profile(base - cross)
                c = torch.maximum(shift[part], torch.maximum(plus.amax(-1), minus.amax(-1)))
                rescale = torch.exp(shift[part] - c)
                y = (torch.exp(plus - c[:, None]) + torch.exp(minus - c[:, None])) / 2
                s1[part] = s1[part] * rescale + y.sum(-1)
                s2[part] = s2[part] * rescale**2 + (y**2).sum(-1)
                shift[part] = c
            done += m
        mean = s1 / pairs
        variance = (s2 / pairs - mean**2).clamp_min(0) * pairs / max(1, pairs - 1)
        u = -(torch.log(mean) + shift) / self.mu
        se = torch.sqrt(variance / pairs) / (self.mu * mean)
        return u, se

    def _points(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.ndim != 2 or x.shape[-1] != self.dim:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"x must have shape (N, {self.dim}); got {shape}")
        return x

    def _times(self, t: Tensor | float, x: Tensor) -> Tensor:
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        if t.ndim == 0:
            t = t.expand(x.shape[0])
        if t.shape != x.shape[:1]:
            raise ValueError(f"t must be a number or have shape ({x.shape[0]},) for x of shape {tuple(x.shape)}; "
                             f"got {tuple(t.shape)}")
        if bool(((t < 0) | (t > self.horizon)).any()):
            raise ValueError(f"t must lie in [0, horizon] = [0, {self.horizon}]")
        return t
