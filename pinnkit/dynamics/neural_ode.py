"""Neural ODEs: ``du/dt = f_θ(t, u)`` with any module ``f``, solved by an ODE solver, differentiated directly
or with the adjoint method (Chen, Rubanova, Bettencourt & Duvenaud, "Neural ordinary differential equations",
NeurIPS 2018).

Gradients. *Direct* backpropagation records every operation of every solver step and backpropagates through
them: exact gradients of the discrete solution, memory growing linearly with the number of steps. The
*adjoint* method records nothing in the forward solve; it integrates the augmented system

    da/dt = -a^T ∂f/∂u,   dg/dt = -a^T ∂f/∂θ,   a(t_N) = ∂L/∂u(t_N),

backwards from the last time together with ``u`` itself, adding ``∂L/∂u(t_i)`` to ``a`` at each output time:
memory independent of the number of steps, gradients equal to the direct ones up to the solver tolerance.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from ..checks import check_bool, check_choice, check_positive_float
from . import backend
from .vector_field import as_field


class NeuralODE(nn.Module):
    """Solve ``du/dt = field(t, u)``: ``NeuralODE(field)(u0, t)`` are the states at the times ``t``.

    Parameters
    ----------
    field : nn.Module or callable
        ``field(t, u)``: ``t`` a 0-d tensor, ``u`` states ``(B, d)``, returns rates ``(B, d)``. Wrap a network of
        the state alone in :class:`~pinnkit.dynamics.Autonomous`; a :class:`~pinnkit.dynamics.UniversalODE` is a
        field too. The adjoint method differentiates the parameters of the module (a plain function has none).
    method : str
        Adaptive: ``"dopri5"`` (default), ``"dopri8"``, ``"bosh3"``, ``"fehlberg2"``, ``"adaptive_heun"``;
        fixed step (give ``step_size``): ``"euler"``, ``"midpoint"``, ``"heun2"``, ``"heun3"``, ``"rk4"``,
        ``"explicit_adams"``, ``"implicit_adams"``.
    rtol, atol : float
        Tolerances of the adaptive methods (per step, mixed relative/absolute error control).
    step_size : float, optional
        Step of the fixed-step methods (required for them, refused for the adaptive ones).
    adjoint : bool
        Gradients by the adjoint method instead of direct backpropagation.
    adjoint_rtol, adjoint_atol : float, optional
        Tolerances of the backward adjoint solve (default ``rtol``, ``atol``).

    Attributes
    ----------
    nfe : int
        Field evaluations of the last forward solve.
    """

    def __init__(self, field: nn.Module | Callable, *, method: str = "dopri5", rtol: float = 1e-6,
                 atol: float = 1e-8, step_size: float | None = None, adjoint: bool = False,
                 adjoint_rtol: float | None = None, adjoint_atol: float | None = None):
        super().__init__()
        self.field = as_field(field)
        method = check_choice(method, "method", backend.ODE_METHODS)
        if method in backend.FIXED_STEP_ODE_METHODS:
            if step_size is None:
                raise ValueError(f"step_size is required by the fixed-step method {method!r}")
            step_size = check_positive_float(step_size, "step_size")
        elif step_size is not None:
            raise ValueError(f"step_size is for fixed-step methods; {method!r} chooses its steps from rtol and atol")
        self.method, self.step_size, self.adjoint = method, step_size, check_bool(adjoint, "adjoint")
        self.rtol, self.atol = check_positive_float(rtol, "rtol"), check_positive_float(atol, "atol")
        self.adjoint_rtol = self.rtol if adjoint_rtol is None else check_positive_float(adjoint_rtol, "adjoint_rtol")
        self.adjoint_atol = self.atol if adjoint_atol is None else check_positive_float(adjoint_atol, "adjoint_atol")
        self.nfe = 0

    def extra_repr(self) -> str:
        fixed = self.step_size is not None
        step = f", step_size={self.step_size}" if fixed else f", rtol={self.rtol}, atol={self.atol}"
        return f"method={self.method!r}{step}, adjoint={self.adjoint}"

    def forward(self, u0: Tensor, t: Tensor) -> Tensor:
        """States at the times ``t`` ``(T,)``: ``(T, d)`` from ``u0`` ``(d,)``, ``(T, B, d)`` from ``(B, d)``.

        ``t[0]`` is the time of ``u0``, so the first returned state is ``u0`` itself.
        """
        backend.check_times(t)
        if not isinstance(u0, Tensor) or u0.ndim not in (1, 2) or u0.shape[-1] == 0:
            raise ValueError(f"u0 must be a tensor of shape (d,) or (B, d); got "
                             f"{tuple(u0.shape) if isinstance(u0, Tensor) else type(u0).__name__}")
        if not u0.is_floating_point() or t.dtype != u0.dtype:
            raise ValueError(f"u0 and t must have the same floating dtype; got {u0.dtype} and {t.dtype}")
        single = u0.ndim == 1
        counter = [0]
        out = backend.solve_ode(self.field, u0.unsqueeze(0) if single else u0, t, method=self.method,
                                rtol=self.rtol, atol=self.atol, step_size=self.step_size, adjoint=self.adjoint,
                                adjoint_rtol=self.adjoint_rtol, adjoint_atol=self.adjoint_atol, counter=counter)
        self.nfe = counter[0]
        return out[:, 0] if single else out
