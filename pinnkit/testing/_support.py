"""What the checks of :mod:`pinnkit.testing` share: a solution as a float64 network, the backends that can
differentiate it, and the worst point of a residual in words."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence

import torch
from torch import Tensor, nn

from ..checks import check_finite_float, check_non_negative_float
from ..derivatives.backend import Backend, as_backend, backend_names
from ..pde.specification import Specification

Solution = Callable[[Tensor], Tensor] | nn.Module
Backends = str | Backend | Iterable[str | Backend] | None


class FunctionNet(nn.Module):
    """A plain function of the points (N, d) -> (N, k) or (N,) as a module with (N, k) outputs (reverse-mode and
    ZCS engines differentiate it through autograd; it has no jet, so the ``"taylor"`` backend refuses it)."""

    def __init__(self, function: Callable[[Tensor], Tensor]):
        super().__init__()
        self.function = function

    def forward(self, x: Tensor) -> Tensor:
        out = self.function(x)
        if not isinstance(out, Tensor):
            raise ValueError(f"solution must return a tensor of its outputs at the points; got {type(out).__name__}")
        return out[..., None] if out.ndim == x.ndim - 1 else out


def float64_net(net: Solution, name: str = "solution") -> nn.Module:
    """``net`` as a float64 module: a plain callable wrapped (:class:`FunctionNet`; it must compute in the
    points' dtype), a module whose tensors are all float64 as it is, any other module as a float64 copy (the
    caller's module is never changed)."""
    if isinstance(net, nn.Module):
        tensors = [*net.parameters(), *net.buffers()]
        if all(t.dtype == torch.float64 for t in tensors if t.is_floating_point()):
            return net
        return copy.deepcopy(net).to(torch.float64)
    if callable(net):
        return FunctionNet(net)
    raise ValueError(f"{name} must be a function of the points (N, d) -> (N, k) or an nn.Module; got "
                     f"{type(net).__name__}")


def select_backends(net: nn.Module, backends: Backends, name: str = "solution") -> list[Backend]:
    """The PINN backends to check ``net`` with: with ``backends=None`` every one of ``backend_names("pinn")``
    whose :meth:`~pinnkit.derivatives.Backend.check` accepts ``net`` (``"stde"`` with its exact operators,
    ``directions=None``: an estimate is not expected to vanish); else those named, each of which must accept it
    (a ``ValueError`` naming the backend and what ``net`` lacks otherwise)."""
    if backends is None:
        chosen = []
        for key in backend_names("pinn"):
            try:
                backend = Backend(key, directions=None) if key == "stde" else Backend(key)
                chosen.append(backend.check(net, "pinn", name))
            except ValueError:
                continue
        return chosen
    items = [backends] if isinstance(backends, (str, Backend)) else list(backends)
    if not items:
        raise ValueError("backends must name at least one backend (or be None: every backend that can)")
    return [as_backend(b, "pinn").check(net, "pinn", name) for b in items]


def check_tolerances(atol: float, rtol: float) -> tuple[float, float]:
    return check_non_negative_float(atol, "atol"), check_non_negative_float(rtol, "rtol")


def pde_parameters(problem: Specification, parameters: Mapping[str, float] | None) -> dict[str, Tensor]:
    """The problem's PDE parameters as float64 0-dim tensors, ``parameters`` (name -> number) replacing some."""
    if parameters is not None and not isinstance(parameters, Mapping):
        raise ValueError(f"parameters must be a mapping name -> value, e.g. {{'nu': 0.1}}; got "
                         f"{type(parameters).__name__}")
    unknown = sorted(set(parameters or {}) - set(problem.parameters))
    if unknown:
        raise ValueError(f"parameters: {unknown} are not PDE parameters of the problem {list(problem.parameters)}")
    values = {**problem.parameters, **{k: check_finite_float(v, f"parameters[{k!r}]")
                                       for k, v in (parameters or {}).items()}}
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in values.items()}


def describe_point(point: Tensor, names: Sequence[str] | None) -> str:
    """``"x=0.25, t=0.5"`` (or ``"x[0]=0.25, x[1]=0.5"`` without names)."""
    labels = names if names is not None else [f"x[{i}]" for i in range(len(point))]
    return ", ".join(f"{n}={float(v):.6g}" for n, v in zip(labels, point, strict=True))


def residual_failure(what: str, residual: Tensor, points: Tensor, names: Sequence[str] | None,
                     tolerance: float, tolerance_text: str) -> tuple[float, str | None]:
    """``(max |r|, None)`` if the residual ``r`` (rows, or rows x columns) is within ``tolerance`` everywhere (and
    finite), else ``(max |r|, message)``: what failed, the worst point, the value there, max and RMS over the
    points and the tolerance. Row ``i`` of ``r`` belongs to ``points[i]`` (a periodic condition's rows to the first
    half of its points, the pairs' first members)."""
    r = residual.detach().reshape(len(residual), -1).to(torch.float64)
    size = r.abs().nan_to_num(nan=float("inf")).amax(dim=1)
    worst = int(size.argmax())
    largest = float(size[worst])
    if largest <= tolerance:
        return largest, None
    rms = float(r.square().mean().sqrt())
    column = int(r[worst].abs().nan_to_num(nan=float("inf")).argmax())
    value = float(r[worst, column])
    where = describe_point(points[worst], names) if worst < len(points) else f"row {worst}"
    if len(r) < len(points):  # a periodic condition: row i compares points[i] with its partner on the other face
        where += " (and its partner on the other face)"
    extra = f" (column {column})" if r.shape[1] > 1 else ""
    message = (f"{what}: max |residual| = {largest:.3e} > tolerance {tolerance:.3e} ({tolerance_text}); worst at "
               f"{where}, residual {value:.6e} there{extra}; RMS {rms:.3e} over {len(r)} points")
    return largest, message


def raise_failures(failures: list[str], checked: int, what: str) -> None:
    """One ``AssertionError`` listing every failure, or nothing."""
    if failures:
        head = f"{len(failures)} of {checked} {what} failed:\n  " if len(failures) > 1 else ""
        raise AssertionError(head + "\n  ".join(failures))
