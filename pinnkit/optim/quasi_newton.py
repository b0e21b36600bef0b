"""Dense quasi-Newton optimizers: BFGS, SSBFGS and SSBroyden with a strong-Wolfe line search.

Each keeps the inverse-Hessian approximation ``H`` (shape ``(n, n)``, ``n`` the number of parameter entries, all
parameters flattened in order) and, per iteration ``k`` with flat gradient ``g_k``:

    d_k = -H_k g_k,    alpha_k: strong-Wolfe step (:func:`~pinnkit.optim.line_search.strong_wolfe`),
    s_k = alpha_k d_k,  y_k = g_{k+1} - g_k,    H_{k+1} = the self-scaled Broyden update (:mod:`.broyden`)

with ``H_0 = I`` (the identity, unscaled: the papers' self-scaling acts from the first update on) and a first
trial step of ``min(1, 1 / ||g_0||_1) lr`` on the very first iteration, ``lr`` (default 1) afterwards. The update
is skipped (``H`` kept) when ``y^T s <= eps ||y|| ||s||`` (``eps`` the parameters' machine epsilon) or when its
scalars are not finite; when ``d`` is not a descent direction (round-off), ``H`` is reset to ``I``.

They are :class:`torch.optim.Optimizer`\\ s used like torch's L-BFGS: ``step(closure)`` runs up to ``max_iter``
iterations (at most ``max_eval`` closure calls), the closure zeroing the gradients, evaluating the loss and
calling ``backward()``; it returns the loss of the closure's first evaluation. A step stops early when
``max |g| <= tolerance_grad``, when the loss or the step changes by no more than ``tolerance_change``, or when the
line search finds no step that decreases the loss (the parameters then stay where they are). The state (``H``,
the counts ``n_iter`` and ``func_evals``) is kept on the first parameter's entry of :attr:`state`, as torch's
L-BFGS keeps its own, in tensors and plain numbers only, so ``state_dict()`` round-trips through ``torch.save``
/ ``torch.load(weights_only=True)`` and resumes bitwise.

Storage is ``n^2`` entries: networks beyond a few thousand parameters want L-BFGS instead, and construction
refuses more than ``max_dense_bytes`` (default :data:`MAX_DENSE_BYTES`, 2 GiB). float64 parameters are
recommended (a float32 ``H`` loses the precision these methods are chosen for; it warns).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable

import torch
from torch import Tensor

from ..checks import check_non_negative_float, check_positive_float, check_positive_int
from .broyden import broyden_update_, curvature_scalars, ssbfgs_scaling, ssbroyden_scaling
from .line_search import Evaluate, LineSearchResult, check_wolfe_constants, strong_wolfe

#: The largest dense ``H`` built unless ``max_dense_bytes`` says otherwise: 2 GiB (n = 16384 in float64).
MAX_DENSE_BYTES = 2 * 1024 ** 3
#: ``line_search(evaluate, direction, loss, grad, step, max_evals) -> LineSearchResult``.
LineSearch = Callable[[Evaluate, Tensor, float, Tensor, float, int], LineSearchResult]


class QuasiNewton(torch.optim.Optimizer):
    """A dense quasi-Newton optimizer of the self-scaled Broyden family (see the module docstring); subclasses
    choose ``(tau, phi)`` in :meth:`scaling`.

    Parameters
    ----------
    params : iterable of Tensor
        One group of real floating tensors of one dtype on one device.
    lr : float
        The trial step of the line search (1: the quasi-Newton step).
    max_iter : int
        Iterations per :meth:`step`.
    max_eval : int, optional
        Closure calls per :meth:`step` (default ``max_iter * 5 // 4``).
    tolerance_grad, tolerance_change : float
        Stop when ``max |g| <= tolerance_grad``, or when the loss or ``max |s|`` changes by at most
        ``tolerance_change``.
    c1, c2 : float
        The strong-Wolfe constants, ``0 < c1 < c2 < 1``.
    max_evals_per_search : int
        Closure calls allowed to one line search.
    max_dense_bytes : int
        The largest ``H`` allowed, in bytes (default 2 GiB); above it use L-BFGS.
    line_search : callable, optional
        Replaces :func:`~pinnkit.optim.line_search.strong_wolfe` (e.g. an exact search in a test), called as
        ``line_search(evaluate, direction, loss, grad, step, max_evals)``.
    """

    #: The method's name in messages.
    method = "quasi-Newton"

    def __init__(self, params: Iterable[Tensor], lr: float = 1.0, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, c1: float = 1e-4, c2: float = 0.9,
                 max_evals_per_search: int = 25, max_dense_bytes: int = MAX_DENSE_BYTES,
                 line_search: LineSearch | None = None):
        max_iter = check_positive_int(max_iter, "max_iter")
        c1, c2 = check_wolfe_constants(c1, c2)
        defaults = {"lr": check_positive_float(lr, "lr"), "max_iter": max_iter,
                    "max_eval": max_iter * 5 // 4 if max_eval is None else check_positive_int(max_eval, "max_eval"),
                    "tolerance_grad": check_non_negative_float(tolerance_grad, "tolerance_grad"),
                    "tolerance_change": check_non_negative_float(tolerance_change, "tolerance_change"),
                    "c1": c1, "c2": c2,
                    "max_evals_per_search": check_positive_int(max_evals_per_search, "max_evals_per_search"),
                    "max_dense_bytes": check_positive_int(max_dense_bytes, "max_dense_bytes")}
        if line_search is not None and not callable(line_search):
            raise ValueError(f"line_search must be a function or None; got {type(line_search).__name__}")
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(f"{self.method} takes one group of parameters (all are flattened into one vector, "
                             f"with one dense inverse Hessian); got {len(self.param_groups)} groups")
        self._params: list[Tensor] = self.param_groups[0]["params"]
        self._check_params(max_dense_bytes)
        self._line_search = line_search

    def _check_params(self, max_dense_bytes: int) -> None:
        first = self._params[0]
        for p in self._params:
            if not p.is_floating_point():
                raise ValueError(f"{self.method} needs real floating-point parameters; got one of {p.dtype}")
            if p.dtype != first.dtype or p.device != first.device:
                raise ValueError(f"{self.method} needs every parameter of one dtype on one device (one flat vector "
                                 f"and one dense inverse Hessian); got {first.dtype} on {first.device} and "
                                 f"{p.dtype} on {p.device}")
        n = sum(p.numel() for p in self._params)
        size = n * n * first.element_size()
        if size > max_dense_bytes:
            raise ValueError(f"{self.method} keeps a dense {n} x {n} inverse Hessian: {size / 2 ** 30:.3g} GiB in "
                             f"{first.dtype}, above max_dense_bytes = {max_dense_bytes} "
                             f"({max_dense_bytes / 2 ** 30:.3g} GiB). Use L-BFGS (optimizer=\"lbfgs\"), whose "
                             "memory grows linearly in n, or raise max_dense_bytes")
        if first.dtype != torch.float64:
            warnings.warn(f"{self.method} with {first.dtype} parameters: the dense inverse Hessian and its updates "
                          "lose most of their accuracy in low precision; use float64 (dtype=torch.float64)",
                          UserWarning, stacklevel=3)

    # ------------------------------------------------------------------ the method
    def scaling(self, s: Tensor, y: Tensor, Hy: Tensor, alpha: float, grad: Tensor) -> tuple[float, float]:
        """``(tau, phi)`` of the update for the step ``s``, the gradient change ``y`` (shape ``(n,)``), ``H y``, the
        line-search step ``alpha`` and the gradient ``grad`` at the iteration's start."""
        raise NotImplementedError

    def update(self, H: Tensor, s: Tensor, y: Tensor, alpha: float, grad: Tensor) -> bool:
        """Update ``H`` in place for ``(s, y)``; False (``H`` kept) where the curvature ``y^T s`` is not safely
        positive or the update's scalars are not finite."""
        eps = torch.finfo(H.dtype).eps
        ys = float(y.dot(s))
        if not (math.isfinite(ys) and ys > eps * float(y.norm()) * float(s.norm())):
            return False
        Hy = H @ y
        yHy = float(y.dot(Hy))
        if not (math.isfinite(yHy) and yHy > 0):
            return False
        tau, phi = self.scaling(s, y, Hy, alpha, grad)
        if not (math.isfinite(tau) and tau > 0 and math.isfinite(phi)):
            return False
        broyden_update_(H, s, y, tau, phi, Hy)
        return True

    # ------------------------------------------------------------------ flat views of the parameters
    def _flat(self) -> Tensor:
        return torch.cat([p.detach().reshape(-1) for p in self._params])

    def _flat_grad(self) -> Tensor:
        return torch.cat([torch.zeros_like(p).reshape(-1) if p.grad is None else p.grad.detach().reshape(-1)
                          for p in self._params])

    def _set(self, flat: Tensor) -> None:
        offset = 0
        for p in self._params:
            p.copy_(flat[offset:offset + p.numel()].view_as(p))
            offset += p.numel()

    # ------------------------------------------------------------------ the step
    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor]) -> Tensor:  # type: ignore[override]
        """Run up to ``max_iter`` iterations (see the module docstring); returns the closure's first loss."""
        if closure is None:
            raise ValueError(f"{self.method}.step needs a closure that evaluates the loss and its gradient")
        group = self.param_groups[0]
        max_iter, max_eval = int(group["max_iter"]), int(group["max_eval"])
        state = self.state[self._params[0]]
        state.setdefault("n_iter", 0)
        state.setdefault("func_evals", 0)
        x = self._flat()
        if "H" not in state:
            state["H"] = torch.eye(x.numel(), dtype=x.dtype, device=x.device)
        H: Tensor = state["H"]

        def evaluate() -> tuple[Tensor, float, Tensor]:
            with torch.enable_grad():
                out = closure()
            state["func_evals"] += 1
            return out, float(out.detach()), self._flat_grad()

        first, loss, g = evaluate()
        evals, done, last_at = 1, 0, x
        if not (math.isfinite(loss) and bool(torch.isfinite(g).all())) or float(g.abs().max()) <= group[
                "tolerance_grad"]:
            return first  # nothing to do: converged, or no finite start (the caller sees the loss)
        search = self._line_search or (lambda f, d, f0, g0, t, m: strong_wolfe(
            f, d, f0, g0, t, c1=group["c1"], c2=group["c2"], max_evals=m))
        while done < max_iter and evals < max_eval:
            d = -(H @ g)
            if not float(g.dot(d)) < 0:  # H lost positive definiteness to round-off: restart from I
                H.copy_(torch.eye(x.numel(), dtype=x.dtype, device=x.device))
                d = -g
                if not float(g.dot(d)) < 0:
                    break
            t0 = min(1.0, 1.0 / float(g.abs().sum())) * group["lr"] if state["n_iter"] == 0 else group["lr"]

            def along(alpha: float, x=x, d=d) -> tuple[float, Tensor]:
                nonlocal last_at
                last_at = x + alpha * d
                self._set(last_at)
                _, value, grad = evaluate()
                return value, grad

            budget = min(group["max_evals_per_search"], max_eval - evals)
            found = search(along, d, loss, g, t0, budget)
            evals += found.evaluations
            if not found.decrease or found.step <= 0:
                break
            s = found.step * d
            x_new = x + s
            self._set(x_new)
            if not torch.equal(x_new, last_at):  # the search's last trial was elsewhere: the gradients and the
                evaluate()  # closure's last loss must be those of the new parameters
                evals += 1
                last_at = x_new
            self.update(H, s, found.grad - g, found.step, g)
            change = abs(found.loss - loss)
            x, loss, g = x_new, found.loss, found.grad
            done += 1
            state["n_iter"] += 1
            if (float(g.abs().max()) <= group["tolerance_grad"] or float(s.abs().max()) <= group["tolerance_change"]
                    or change <= group["tolerance_change"]):
                break
        if not torch.equal(x, last_at):  # a failed search ended elsewhere: back to x, and its gradient
            self._set(x)
            evaluate()
        return first


class BFGS(QuasiNewton):
    """Dense BFGS (``tau = phi = 1``): ``H_{k+1} = (I - rho s y^T) H (I - rho y s^T) + rho s s^T``, ``rho =
    1 / y^T s`` (Nocedal & Wright, eq. 6.17), with a strong-Wolfe line search; see :class:`QuasiNewton`."""

    method = "BFGS"

    def scaling(self, s: Tensor, y: Tensor, Hy: Tensor, alpha: float, grad: Tensor) -> tuple[float, float]:
        return 1.0, 1.0


class SSBFGS(QuasiNewton):
    """Self-scaled BFGS: ``phi = 1``, ``tau = min(1, 1/b)`` with ``b = -alpha s^T g / y^T s`` (Al-Baali 1998;
    Urbán, Stefanou & Pons 2025, arXiv:2405.04230); see :mod:`pinnkit.optim.broyden` and :class:`QuasiNewton`."""

    method = "SSBFGS"

    def scaling(self, s: Tensor, y: Tensor, Hy: Tensor, alpha: float, grad: Tensor) -> tuple[float, float]:
        b, _, _ = curvature_scalars(s, y, Hy, alpha, grad)
        return ssbfgs_scaling(b)


class SSBroyden(QuasiNewton):
    """Self-scaled Broyden: ``tau`` and ``phi`` of Al-Baali & Khalfan (2005) as used by Urbán, Stefanou & Pons
    (2025, arXiv:2405.04230, "SSBroyden2") and Kiyani et al. (2025, arXiv:2501.16371); the formulas are in
    :mod:`pinnkit.optim.broyden`. See :class:`QuasiNewton`."""

    method = "SSBroyden"

    def scaling(self, s: Tensor, y: Tensor, Hy: Tensor, alpha: float, grad: Tensor) -> tuple[float, float]:
        b, h, a = curvature_scalars(s, y, Hy, alpha, grad)
        return ssbroyden_scaling(b, h, a, s.numel())
