"""Time-marching: train a time-dependent problem window by window.

The time interval ``[t0, t1]`` is cut at ``t0 = T_0 < T_1 < ... < T_K = t1``. Window ``k`` is the problem on
``[T_k, T_{k+1}]`` (:meth:`pinnkit.Problem.time_window`) with its own network, sampler and trainer; its
initial condition is the previous window's prediction at ``T_k`` (for ``InitialCondition(derivative=1)``,
the previous window's ``u_t`` there). Each window's network starts from the trained network of the window
before (``warm_start=True``) or from a fresh copy of the given one, and runs in window-local time
(:class:`~pinnkit.nets.LocalTime`): the window ``[T_k, T_{k+1}]`` is mapped onto the whole ``[t0, t1]`` the
network was built for, so its input scaling spans every window alike. The windows together are one
:class:`~pinnkit.nets.TimeWindows` network.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..checkpoint import load_checkpoint, save_atomic
from ..checks import check_device, check_dtype, check_loss_weights, check_lr, check_seed
from ..distributed.collectives import barrier
from ..geometry import SpaceTimeDomain
from ..nets.registry import spec_or_none
from ..nets.time_windows import LocalTime, TimeWindows
from ..pde import InitialCondition, Problem
from ..sampling import Sampler
from ..weighting import Weighting
from .pinn import Trainer
from .prediction import predict_points


class PreviousWindow:
    """``u_j`` (or ``du_j/dt`` with ``derivative=1``) of a trained window network, as a condition value:
    float64 points ``(N, d)`` -> ``(N,)``."""

    def __init__(self, net: nn.Module, output: int, derivative: int = 0):
        self.net, self.output, self.derivative = net, output, derivative
        parameter = next(net.parameters())
        self.dtype, self.device = parameter.dtype, parameter.device

    def __call__(self, points: Tensor) -> Tensor:
        x = points.to(dtype=self.dtype, device=self.device)
        if not self.derivative:
            with torch.no_grad():
                return self.net(x)[:, self.output].to(points)
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.net(x)[:, self.output].sum(), x)
        return grad[:, -1].detach().to(points)


class TimeMarching:
    """Train ``problem`` window by window (see the module docstring).

    Parameters
    ----------
    problem : Problem
        On a space-time domain.
    net : nn.Module
        The network of the first window (copied; later windows copy the previous window's trained net).
    windows : int or sequence of float
        The number of equal windows, or the cut times ``T_0 = t0 < ... < T_K = t1``.
    sampler : Sampler, optional
        Copied for each window before use (default: the trainer's default).
    weighting : Weighting, optional
        Copied for each window before use (default none).
    warm_start : bool
        Start each window from the trained network of the window before.
    reference : (points, values), optional
        Reference solution; each window's trainer records the error on the reference points in its window.
    **trainer_options
        Passed to every window's :class:`~pinnkit.Trainer` (optimizer, lr, backend, device, dtype,
        loss_weights, ...); window ``k`` uses seed ``seed + k``.
    """

    def __init__(self, problem: Problem, net: nn.Module, windows: int | Sequence[float], *,
                 sampler: Sampler | None = None, weighting: Weighting | None = None, warm_start: bool = True,
                 seed: int = 0,
                 reference: tuple[Any, Any] | None = None, **trainer_options):
        if not isinstance(problem, Problem) or not isinstance(problem.domain, SpaceTimeDomain):
            raise ValueError("problem must be a pinnkit Problem on a space-time domain (geometry * TimeDomain)")
        if not isinstance(net, nn.Module):
            raise ValueError(f"net must be a torch.nn.Module; got {type(net).__name__}")
        if sampler is not None and not isinstance(sampler, Sampler):
            raise ValueError(f"sampler must be a pinnkit Sampler; got {type(sampler).__name__}")
        if weighting is not None and not isinstance(weighting, Weighting):
            raise ValueError(f"weighting must be a pinnkit Weighting; got {type(weighting).__name__}")
        self.edges = self._edges(problem, windows)
        trainer_options = _check_trainer_options(trainer_options, problem)
        self.problem, self.net0, self.sampler0, self.weighting0 = problem, net, sampler, weighting
        self.warm_start, self.seed, self.trainer_options = bool(warm_start), check_seed(seed), trainer_options
        self.reference = None if reference is None else (np.asarray(reference[0]), np.asarray(reference[1]))
        self.trainers: list[Trainer] = []

    @staticmethod
    def _edges(problem: Problem, windows) -> list[float]:
        t0, t1 = problem.domain.time.t0, problem.domain.time.t1
        if isinstance(windows, int) and not isinstance(windows, bool):
            if windows < 1:
                raise ValueError(f"windows must be a positive number of windows or a sequence of cut times; "
                                 f"got {windows!r}")
            return [float(v) for v in np.linspace(t0, t1, windows + 1)]
        edges = [float(v) for v in windows]
        if len(edges) < 2 or edges[0] != t0 or edges[-1] != t1 or any(
                b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"windows as cut times must increase from t0 = {t0} to t1 = {t1}; got {windows!r}")
        return edges

    def __len__(self) -> int:
        return len(self.edges) - 1

    def window_problem(self, k: int) -> Problem:
        """The problem of window ``k``; for ``k > 0`` window ``k - 1`` must be trained."""
        initial = {}
        if k > 0:
            previous = self.trainers[k - 1].net
            for c in self.problem.conditions:
                if isinstance(c, InitialCondition):
                    initial[c.name] = PreviousWindow(previous, c.output_index, c.derivative)
        # inverse problems: the PDE parameters start from the previous window's trained values
        parameters = self.trainers[k - 1].parameter_values() if k > 0 else None
        return self.problem.time_window(self.edges[k], self.edges[k + 1], initial, parameters)

    def _trainer(self, k: int) -> Trainer:
        problem = self.window_problem(k)
        inner = self.trainers[k - 1].net.net if k > 0 and self.warm_start else self.net0
        net = LocalTime(copy.deepcopy(inner), (self.edges[k], self.edges[k + 1]), (self.edges[0], self.edges[-1]))
        sampler = copy.deepcopy(self.sampler0) if self.sampler0 is not None else None
        weighting = copy.deepcopy(self.weighting0) if self.weighting0 is not None else None
        reference = None
        if self.reference is not None:
            points, values = self.reference
            t = points[:, -1]
            last = k == len(self) - 1
            inside = (t >= self.edges[k]) & ((t <= self.edges[k + 1]) if last else (t < self.edges[k + 1]))
            if inside.any():
                reference = (points[inside], values.reshape(len(points), -1)[inside])
        return Trainer(problem, net, sampler=sampler, weighting=weighting, seed=self.seed + k, reference=reference,
                       **self.trainer_options)

    def fit(self, plan: int | Callable[[Trainer], Any], **fit_options) -> list[Trainer]:
        """Train every window not yet trained: ``trainer.fit(plan, **fit_options)`` (the keywords of
        :meth:`pinnkit.Trainer.fit`: ``optimizer``, ``lr``, ``callbacks``, ...), or ``plan(trainer)`` for any
        recipe (e.g. Adam then L-BFGS). Returns the window trainers."""
        if not callable(plan) and (isinstance(plan, bool) or not isinstance(plan, int) or plan < 0):
            raise ValueError(f"plan must be a number of steps or a function of the window's trainer; got {plan!r}")
        while len(self.trainers) < len(self):
            trainer = self._trainer(len(self.trainers))
            self.trainers.append(trainer)
            if callable(plan):
                plan(trainer)
            else:
                trainer.fit(plan, **fit_options)
        return self.trainers

    @property
    def history(self) -> list[dict[str, Any]]:
        """The windows' histories in one list: each record gains ``window`` and counts ``step`` across windows."""
        records, offset = [], 0
        for k, trainer in enumerate(self.trainers):
            records += [{**h, "step": h["step"] + offset, "window": k} for h in trainer.history]
            offset += trainer.step
        return records

    @property
    def net(self) -> TimeWindows:
        """The trained windows as one network."""
        if len(self.trainers) < len(self):
            raise ValueError(f"only {len(self.trainers)} of {len(self)} windows are trained; call fit first")
        return TimeWindows([t.net for t in self.trainers], self.edges)

    def predict(self, x) -> np.ndarray:
        """Outputs ``(n, k)`` (float64 numpy) at points ``x`` ``(n, d)``, each from its time window's network."""
        net = self.net  # raises unless every window is trained
        first = self.trainers[0]
        return predict_points(net, x, self.problem.domain, first.dtype, first.device)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Every trained window's full trainer state, and the windows as one model for :func:`pinnkit.load`."""
        state: dict[str, Any] = {"edges": self.edges, "windows": [t.state_dict() for t in self.trainers]}
        if len(self.trainers) == len(self):
            net = self.net
            first = state["windows"][0]
            state.update(net=net.state_dict(), net_spec=spec_or_none(net), problem=first["problem"],
                         dtype=first["dtype"], parameters=state["windows"][-1]["parameters"])
        return state

    def save(self, path: str | os.PathLike) -> None:
        """Write :meth:`state_dict` atomically; :func:`pinnkit.load` reads the model of a finished run and
        :meth:`load_state` resumes (a finished window is not retrained)."""
        state = self.state_dict()
        ranks = self.trainers[0].ranks if self.trainers else None
        if ranks is None or ranks.is_main:  # data-parallel: rank 0 writes, once every rank has the state
            save_atomic(state, path)
        if ranks is not None:
            barrier(ranks)

    def load_state(self, path: str | os.PathLike | Mapping) -> None:
        """Restore the trained windows of a checkpoint written by :meth:`save` for the same set-up."""
        state = load_checkpoint(path) if not isinstance(path, Mapping) else path
        if list(state["edges"]) != self.edges:
            raise ValueError(f"the checkpoint has windows {state['edges']}, this run {self.edges}")
        self.trainers = []
        for k, window in enumerate(state["windows"]):
            trainer = self._trainer(k)
            trainer.load_state_dict(window, source=f"window {k}")
            self.trainers.append(trainer)


#: Keywords of :class:`Trainer` that :class:`TimeMarching` passes on to each window's trainer.
_TRAINER_OPTIONS = ("optimizer", "lr", "optimizer_options", "scheduler", "backend", "device", "dtype",
                    "loss_weights", "distributed")  # compiling: backend=pk.Backend("taylor", compile=True)


def _check_trainer_options(options: Mapping[str, Any], problem: Problem) -> dict[str, Any]:
    """The keywords for the window trainers, checked now rather than when the first window is trained: known
    names only, and ``device``, ``dtype``, ``lr`` and ``loss_weights`` as :class:`Trainer` checks them
    (``device`` and ``dtype`` normalised)."""
    unknown = sorted(set(options) - set(_TRAINER_OPTIONS))
    if unknown:
        raise TypeError(f"TimeMarching got unknown trainer options {unknown}; the options passed on to each "
                        f"window's Trainer are {list(_TRAINER_OPTIONS)}")
    options = dict(options)
    if "device" in options:
        options["device"] = check_device(options["device"])
    if "dtype" in options:
        options["dtype"] = check_dtype(options["dtype"])
    if "lr" in options:
        options["lr"] = check_lr(options["lr"])
    if options.get("loss_weights") is not None:
        check_loss_weights(options["loss_weights"], problem.terms)
    return options
