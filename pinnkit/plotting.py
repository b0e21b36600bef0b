"""Figures of a run, drawn with matplotlib's Agg canvas (no display needed, no pyplot state)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

_NOT_TERMS = {"step", "optimizer", "loss", "lr", "time", "l2_relative_error"}


def plot_history(history: Sequence[dict], path: str | os.PathLike, parameters: Sequence[str] = ()) -> None:
    """Loss terms (and the relative L2 error, if recorded) against the step, on log axes."""
    if not history:
        raise ValueError("the history is empty: nothing to plot")
    steps = np.array([r["step"] for r in history])
    has_error = "l2_relative_error" in history[-1]
    fig = Figure(figsize=(11 if has_error else 6, 4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2 if has_error else 1, squeeze=False)[0]
    ax = axes[0]
    ax.semilogy(steps, [r["loss"] for r in history], "k", lw=2, label="total")
    for key in history[-1]:
        if key not in _NOT_TERMS and key not in parameters and isinstance(history[-1][key], float):
            ax.semilogy(steps, [r.get(key, np.nan) for r in history], lw=1, label=key)
    _mark_optimizer_switches(ax, history)
    ax.set(xlabel="step", ylabel="loss", title="training loss")
    ax.legend(fontsize=8)
    if has_error:
        axes[1].semilogy(steps, [r["l2_relative_error"] for r in history], "C3")
        _mark_optimizer_switches(axes[1], history)
        axes[1].set(xlabel="step", ylabel="relative L2 error", title="error against the reference")
    fig.savefig(path, dpi=110)


def _mark_optimizer_switches(ax, history) -> None:
    for prev, cur in zip(history, history[1:], strict=False):
        if prev["optimizer"] != cur["optimizer"]:
            ax.axvline(prev["step"], color="0.6", ls="--", lw=0.8)
            ax.text(prev["step"], 1, f" {cur['optimizer']}", transform=ax.get_xaxis_transform(), va="top",
                    fontsize=8, color="0.4")


def plot_solution(x: np.ndarray, y: np.ndarray, prediction: np.ndarray, reference: np.ndarray,
                  path: str | os.PathLike, labels: tuple[str, str] = ("x", "t"), name: str = "u") -> None:
    """Prediction, reference and absolute error of a field on a grid: ``x`` (nx,), ``y`` (ny,), fields (nx, ny)."""
    prediction, reference = np.asarray(prediction), np.asarray(reference)
    if prediction.shape != (len(x), len(y)) or reference.shape != prediction.shape:
        raise ValueError(f"fields must have shape (len(x), len(y)) = ({len(x)}, {len(y)}); got "
                         f"{prediction.shape} and {reference.shape}")
    fig = Figure(figsize=(15, 4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    lim = float(np.abs(reference).max())
    error = np.abs(prediction - reference)
    for ax, field, title, kw in (
        (axes[0], prediction, f"{name} predicted", {"cmap": "RdBu_r", "vmin": -lim, "vmax": lim}),
        (axes[1], reference, f"{name} reference", {"cmap": "RdBu_r", "vmin": -lim, "vmax": lim}),
        (axes[2], error, f"|error| (max {error.max():.2e})", {"cmap": "viridis"}),
    ):
        mesh = ax.pcolormesh(y, x, field, shading="auto", **kw)
        fig.colorbar(mesh, ax=ax)
        ax.set(xlabel=labels[1], ylabel=labels[0], title=title)
    fig.savefig(path, dpi=110)


def plot_lines(x: np.ndarray, curves: dict[str, np.ndarray], path: str | os.PathLike, *, xlabel: str = "x",
               ylabel: str = "u") -> None:
    """Curves ``name -> values (n,)`` against ``x`` (n,) on one axis (a 1-D solution and its reference)."""
    x = np.asarray(x)
    bad = [k for k, v in curves.items() if np.shape(v) != x.shape]
    if not curves or bad:
        raise ValueError(f"curves must be one or more arrays of the shape of x {x.shape}; these are not: {bad}")
    fig = Figure(figsize=(6, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for k, (name, values) in enumerate(curves.items()):
        ax.plot(x, values, lw=2 if k == 0 else 1, ls="-" if k == 0 else "--", label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
