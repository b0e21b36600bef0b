"""Collocation points of the Burgers problem, and how the six sampling methods compare.

The viscous Burgers benchmark of Raissi, Perdikaris & Karniadakis (J. Comput. Phys. 378, 2019) is posed on
the space-time domain ``[-1, 1] x [0, 1]``::

    u_t + u u_x = (0.01 / pi) u_xx,   u(x, 0) = -sin(pi x),   u(-1, t) = u(1, t) = 0.

A physics-informed network for it is trained on three sets of collocation points, all made here with
:mod:`pinnkit.geometry` from ``Interval(-1, 1) * TimeDomain(0, 1)``:

* interior (PDE residual) points in the open domain: ``domain.sample_interior``;
* lateral boundary points on ``x = -1`` and ``x = +1`` (the boundary condition): ``domain.sample_boundary``,
  with their outward normals ``(-1, 0)`` and ``(+1, 0)`` from ``domain.boundary_normal``;
* initial points on ``t = 0`` (the initial condition): ``domain.sample_initial``.

Each set is drawn with ``--method`` from its own random stream derived from ``--seed``, so the sets are
reproducible and not correlated with each other. The example then draws the same number of interior points
with each of the six methods (``pinnkit.geometry.METHODS``) and reports their L2-star discrepancy after
scaling to the unit square (``scipy.stats.qmc.discrepancy``, lower means more even coverage): the
low-discrepancy methods ``sobol``, ``halton`` and ``hammersley`` cover the domain far more evenly than
``random`` at the same cost.

Outputs, in ``--out`` (default ``out/``):

* ``points.npz``: ``interior`` (n, 2), ``boundary`` (n, 2), ``boundary_normals`` (n, 2) and ``initial``
  (n, 2), columns ``(x, t)``; also ``plate_interior``, ``plate_boundary`` and ``plate_normals`` for the 2-D
  example domain of the figure;
* ``metrics.json``: counts, method, seed, unique points per set, the fraction of interior points inside the
  domain, the largest deviation of a normal's length from 1, and the discrepancy of every method;
* ``collocation_points.png``: the Burgers points in the ``(x, t)`` plane; a non-convex polygon minus a disk
  sampled with the same method, with its outward boundary normals; and one small panel per method with the
  same number of interior points each, so the methods can be compared by eye.

Run ``python examples/collocation_points.py --out out`` (``--quick`` for a run of a few seconds with small
counts, ``--help`` for all options).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy.stats import qmc

import pinnkit as pk
import pinnkit.geometry as G

DEFAULT_COUNTS = {"interior": 8000, "boundary": 200, "initial": 200}
QUICK_COUNTS = {"interior": 500, "boundary": 50, "initial": 50}
PANEL_POINTS = 256  # interior points in each small per-method panel of the figure

# Independent random streams, one per point set, all derived from --seed.
STREAM_INTERIOR, STREAM_BOUNDARY, STREAM_INITIAL, STREAM_PLATE, STREAM_PANEL = range(5)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {value}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Sample the collocation points of the Burgers problem on [-1, 1] x [0, 1] and compare the "
                    "sampling methods. Writes points.npz, metrics.json and collocation_points.png.")
    parser.add_argument("--out", default="out", metavar="DIR",
                        help="output directory (created if missing; default: out)")
    parser.add_argument("--method", default="sobol", choices=G.METHODS,
                        help="sampling method for the point sets (default: sobol)")
    parser.add_argument("--n-interior", type=positive_int, default=None, metavar="N",
                        help=f"interior (PDE) points (default: {DEFAULT_COUNTS['interior']}, "
                             f"{QUICK_COUNTS['interior']} with --quick)")
    parser.add_argument("--n-boundary", type=positive_int, default=None, metavar="N",
                        help=f"lateral boundary points on x = -1 and x = 1 together (default: "
                             f"{DEFAULT_COUNTS['boundary']}, {QUICK_COUNTS['boundary']} with --quick)")
    parser.add_argument("--n-initial", type=positive_int, default=None, metavar="N",
                        help=f"initial points on t = 0 (default: {DEFAULT_COUNTS['initial']}, "
                             f"{QUICK_COUNTS['initial']} with --quick)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--quick", action="store_true",
                        help="small default counts, for a smoke test that runs in a few seconds")
    parser.add_argument("--device", default="cpu", help="torch device for the sampled tensors (default: cpu)")
    args = parser.parse_args(argv)
    pk.cli.require_one_process(parser, "it draws and pictures points, with nothing to share out")
    pk.cli.check_out(parser, args.out)
    counts = QUICK_COUNTS if args.quick else DEFAULT_COUNTS
    for key, value in counts.items():
        if getattr(args, f"n_{key}") is None:
            setattr(args, f"n_{key}", value)
    if args.seed < 0:
        parser.error(f"--seed must be >= 0; got {args.seed}")
    try:
        device = torch.device(args.device)
    except RuntimeError as err:
        parser.error(f"--device: {err}")
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: CUDA is not available in this torch build / on this machine")
    args.device = device
    return args


def stream(seed: int, which: int) -> np.random.Generator:
    """The random stream ``which`` for the run with seed ``seed`` (reproducible, independent of the others)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(which,)))


def unique_count(points: np.ndarray) -> int:
    return int(len(np.unique(points, axis=0)))


def to_unit_square(points: np.ndarray, bbox: np.ndarray) -> np.ndarray:
    """Points of the box ``bbox`` (2, d) mapped affinely onto the unit cube, in float64."""
    lo, hi = bbox
    return (points.astype(np.float64) - lo) / (hi - lo)


def l2_star_discrepancy(points: np.ndarray, bbox: np.ndarray) -> float:
    return float(qmc.discrepancy(to_unit_square(points, bbox), method="L2-star"))


def plate_geometry() -> G.Geometry:
    """A non-convex pentagon (a notch in its top side) with a circular hole."""
    return G.Polygon([[0, 0], [2, 0], [2, 1], [1, 0.4], [0, 1]]) - G.Disk([0.5, 0.3], 0.15)


def draw_figure(path: Path, method: str, sets: dict[str, np.ndarray], plate: dict[str, np.ndarray],
                panels: dict[str, tuple[np.ndarray, float]]) -> None:
    fig = Figure(figsize=(14, 7), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subfigures(2, 1, height_ratios=[2, 1])

    ax_burgers, ax_plate = top.subplots(1, 2, width_ratios=[1, 1.1])
    n_int = len(sets["interior"])
    ax_burgers.scatter(*sets["interior"].T, s=max(0.5, min(6.0, 3000 / n_int)), c="0.45", linewidths=0,
                       label=f"interior (PDE residual): {n_int}")
    ax_burgers.scatter(*sets["boundary"].T, s=7, c="tab:red", marker="s", linewidths=0, clip_on=False,
                       label=f"boundary x = ±1: {len(sets['boundary'])}")
    ax_burgers.scatter(*sets["initial"].T, s=9, c="tab:blue", marker="^", linewidths=0, clip_on=False,
                       label=f"initial t = 0: {len(sets['initial'])}")
    ax_burgers.set(xlabel="x", ylabel="t", xlim=(-1.05, 1.05), ylim=(-0.05, 1.05),
                   title=f"Burgers on [-1, 1] x [0, 1]: collocation points ({method})")
    ax_burgers.set_aspect("equal")
    ax_burgers.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, markerscale=2, frameon=False)

    xb, nb = plate["boundary"], plate["normals"]
    ax_plate.scatter(*plate["interior"].T, s=2, c="0.45", linewidths=0, label=f"interior: {len(plate['interior'])}")
    ax_plate.scatter(*xb.T, s=10, c="tab:red", linewidths=0, label=f"boundary: {len(xb)}")
    arrows = ax_plate.quiver(xb[:, 0], xb[:, 1], nb[:, 0], nb[:, 1], angles="xy", scale_units="xy", scale=10,
                             width=0.003, color="tab:red", alpha=0.7)
    ax_plate.quiverkey(arrows, 0.9, -0.16, 1, "outward normal", labelpos="W", coordinates="axes")
    ax_plate.set(xlabel="x", ylabel="y", xlim=(-0.15, 2.15), ylim=(-0.15, 1.15),
                 title=f"Polygon - Disk, same method ({method})")
    ax_plate.set_aspect("equal")
    ax_plate.legend(loc="upper left", bbox_to_anchor=(0.0, -0.12), ncol=2, markerscale=2, frameon=False)

    n_panel = len(next(iter(panels.values()))[0])
    bottom.suptitle(f"The six methods side by side: {n_panel} interior points each, with their L2-star "
                    "discrepancy on the unit square (lower is more even)", fontsize=11)
    for k, (ax, (name, (points, disc))) in enumerate(zip(bottom.subplots(1, len(panels)), panels.items(), strict=True)):
        ax.scatter(*points.T, s=3, c="tab:red" if name == method else "0.2", linewidths=0)
        ax.set(xlim=(-1, 1), ylim=(0, 1), xticks=[-1, 0, 1], yticks=[0, 1], xlabel="x")
        ax.set_title(f"{name}: {disc:.2g}", fontsize=10)
        ax.set_aspect("equal")
        if k == 0:
            ax.set_ylabel("t")
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the example with command-line arguments ``argv`` (``sys.argv[1:]`` if None); returns the metrics."""
    args = parse_args(argv)
    start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    method, seed, device = args.method, args.seed, args.device

    domain = G.Interval(-1, 1) * G.TimeDomain(0, 1)
    bbox = domain.bbox.numpy()
    x_int = domain.sample_interior(args.n_interior, method, seed=stream(seed, STREAM_INTERIOR), device=device)
    x_bnd = domain.sample_boundary(args.n_boundary, method, seed=stream(seed, STREAM_BOUNDARY), device=device)
    x_ini = domain.sample_initial(args.n_initial, method, seed=stream(seed, STREAM_INITIAL), device=device)
    normals = domain.boundary_normal(x_bnd)

    inside_fraction = float(domain.inside(x_int).double().mean())
    on_boundary_fraction = float(domain.on_boundary(x_bnd).double().mean())
    on_initial_fraction = float(domain.on_initial(x_ini).double().mean())
    normal_error = float((torch.linalg.vector_norm(normals.double(), dim=1) - 1).abs().max())

    sets = {"interior": x_int, "boundary": x_bnd, "initial": x_ini}
    arrays = {name: x.cpu().numpy() for name, x in sets.items()}
    arrays["boundary_normals"] = normals.cpu().numpy()

    plate = plate_geometry()
    plate_rng = stream(seed, STREAM_PLATE)
    xp = plate.sample_interior(max(1, args.n_interior // 4), method, seed=plate_rng, device=device)
    xpb = plate.sample_boundary(max(1, args.n_boundary // 2), method, seed=plate_rng, device=device)
    plate_arrays = {"interior": xp.cpu().numpy(), "boundary": xpb.cpu().numpy(),
                    "normals": plate.boundary_normal(xpb).cpu().numpy()}
    arrays.update({f"plate_{name}": value for name, value in plate_arrays.items()})

    # Every method at the same n, each from the interior stream: the entry of --method is the saved points'.
    discrepancy = {}
    for name in G.METHODS:
        x = x_int if name == method else domain.sample_interior(args.n_interior, name,
                                                                 seed=stream(seed, STREAM_INTERIOR))
        discrepancy[name] = l2_star_discrepancy(x.cpu().numpy(), bbox)
    n_panel = min(args.n_interior, PANEL_POINTS)
    panels = {}
    for name in G.METHODS:
        x = domain.sample_interior(n_panel, name, seed=stream(seed, STREAM_PANEL)).numpy()
        panels[name] = (x, l2_star_discrepancy(x, bbox))

    np.savez(out / "points.npz", **arrays)
    metrics: dict[str, Any] = {
        "problem": "Burgers (Raissi et al. 2019)",
        "domain": repr(domain),
        "coordinates": list(domain.names),
        "method": method,
        "seed": seed,
        "device": str(device),
        "dtype": str(x_int.dtype).removeprefix("torch."),
        "counts": {name: len(x) for name, x in sets.items()},
        "unique": {name: unique_count(arrays[name]) for name in sets},
        "interior_inside_fraction": inside_fraction,
        "boundary_on_boundary_fraction": on_boundary_fraction,
        "initial_on_initial_fraction": on_initial_fraction,
        "boundary_sides": {"x=-1": int((arrays["boundary"][:, 0] < 0).sum()),
                           "x=+1": int((arrays["boundary"][:, 0] > 0).sum())},
        "max_normal_error": normal_error,
        "discrepancy_kind": "L2-star, interior points scaled to the unit square (scipy.stats.qmc.discrepancy)",
        "discrepancy_n": args.n_interior,
        "discrepancy": discrepancy,
        "plate": {
            "geometry": repr(plate),
            "counts": {"interior": len(xp), "boundary": len(xpb)},
            "unique": {"interior": unique_count(plate_arrays["interior"]),
                       "boundary": unique_count(plate_arrays["boundary"])},
            "interior_inside_fraction": float(plate.inside(xp).double().mean()),
            "boundary_on_boundary_fraction": float(plate.on_boundary(xpb).double().mean()),
            "max_normal_error": float(np.abs(np.linalg.norm(plate_arrays["normals"].astype(np.float64), axis=1)
                                             - 1).max()),
        },
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    draw_figure(out / "collocation_points.png", method, arrays, plate_arrays, panels)
    metrics["seconds"] = time.perf_counter() - start

    print_summary(metrics, out)
    return metrics


def print_summary(m: dict[str, Any], out: Path) -> None:
    c, u = m["counts"], m["unique"]
    sides = m["boundary_sides"]
    print(f"Burgers collocation points on {m['domain']}, method {m['method']!r}, seed {m['seed']}, "
          f"{m['dtype']} on {m['device']}")
    print(f"  interior  {c['interior']:6d} points, {u['interior']} unique, "
          f"{100 * m['interior_inside_fraction']:.1f}% inside")
    print(f"  boundary  {c['boundary']:6d} points, {u['boundary']} unique, {sides['x=-1']} on x = -1 and "
          f"{sides['x=+1']} on x = +1, normals' max | |n| - 1 | = {m['max_normal_error']:.1e}")
    print(f"  initial   {c['initial']:6d} points, {u['initial']} unique, all on t = 0: "
          f"{m['initial_on_initial_fraction'] == 1.0}")
    best = min(m["discrepancy"], key=m["discrepancy"].get)
    ratio = m["discrepancy"]["random"] / m["discrepancy"][best]
    print(f"L2-star discrepancy of {m['discrepancy_n']} interior points (lower = more even; "
          f"{best} is {ratio:.0f}x below random):")
    for name, value in sorted(m["discrepancy"].items(), key=lambda item: item[1]):
        marker = "  <- --method" if name == m["method"] else ""
        print(f"  {name:<11s} {value:.3e}{marker}")
    files = ", ".join(str(out / f) for f in ("points.npz", "metrics.json", "collocation_points.png"))
    print(f"wrote {files} in {m['seconds']:.1f} s")


if __name__ == "__main__":
    main()
