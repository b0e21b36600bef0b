"""Memory and time of adjoint vs direct backpropagation through an ODE solve, as the solver steps grow.

A neural ODE ``du/dt = MLP(u)`` (``--dim`` states, ``--width`` x 2 tanh layers, ``--batch`` trajectories, float64)
is solved over t ∈ [0, 1] with fixed-step RK4 (step 1/n for each n of ``--steps``), and the gradient of the
mean square of the final state is taken with respect to the network's parameters, once by direct
backpropagation through the solver's operations and once by the adjoint method. For each n the script
reports the median wall time of forward + backward (``--repeats`` runs), the bytes of tensors that autograd holds
for backward once the forward solve is done (tracked with ``torch.autograd.graph.saved_tensors_hooks``;
storages shared by several saved tensors count once), on CUDA also ``torch.cuda.max_memory_allocated`` over
forward + backward, and the relative difference of the two gradients. Direct backpropagation holds every
step's intermediate values until its backward, so this memory grows linearly in n; the adjoint holds almost
nothing (its forward solve records no graph) and builds one step's small graph at a time during its backward
solve, which the saved-tensor count does not measure as a peak (the CUDA peak does), at the price of a
second solve. ``--json PATH`` writes the table. Timings on a shared machine are noisy; the ratios taken side by side
in one process are the meaningful part.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import weakref
from pathlib import Path

import torch

import pinnkit as pk
from pinnkit import dynamics as dyn


class SavedTensorMeter:
    """Live bytes of the tensors autograd saves for backward (and their peak), while used as a context
    manager; a tensor counts from the moment autograd saves it until its graph is freed."""

    def __init__(self):
        self.live = self.peak = 0
        self._counts: dict[int, list[int]] = {}

    def _release(self, key: int) -> None:
        entry = self._counts[key]
        entry[0] -= 1
        if entry[0] == 0:
            self.live -= entry[1]
            del self._counts[key]

    def _pack(self, tensor: torch.Tensor):
        storage = tensor.untyped_storage()
        key = storage.data_ptr()
        if key in self._counts:
            self._counts[key][0] += 1
        else:
            self._counts[key] = [1, storage.nbytes()]
            self.live += storage.nbytes()
            self.peak = max(self.peak, self.live)
        holder = _Holder(tensor)
        weakref.finalize(holder, self._release, key)
        return holder

    @staticmethod
    def _unpack(holder: _Holder) -> torch.Tensor:
        return holder.tensor

    def __enter__(self):
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc):
        self._hooks.__exit__(*exc)


class _Holder:
    __slots__ = ("tensor", "__weakref__")

    def __init__(self, tensor: torch.Tensor):
        self.tensor = tensor


def run_once(model: dyn.NeuralODE, u0: torch.Tensor, t: torch.Tensor, device: torch.device):
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.grad = None
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    meter = SavedTensorMeter()
    start = time.perf_counter()
    with meter:
        loss = model(u0, t)[-1].pow(2).mean()
        held = meter.live  # what autograd keeps between the forward solve and the backward
        loss.backward()
        del loss
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    cuda_peak = torch.cuda.max_memory_allocated() - base if device.type == "cuda" else None
    grad = torch.cat([p.grad.flatten() for p in params])
    return seconds, held, cuda_peak, grad


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, nargs="+", default=[10, 30, 100, 300, 1000],
                   help="RK4 steps over [0, 1] (default 10 30 100 300 1000)")
    p.add_argument("--dim", type=int, default=8, help="state dimension (default 8)")
    p.add_argument("--width", type=int, default=64, help="hidden width (default 64)")
    p.add_argument("--batch", type=int, default=128, help="trajectories (default 128)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per setting (default 3)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, metavar="PATH", help="write the table as JSON")
    p.add_argument("--quick", action="store_true", help="two small settings, one repeat")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.repeats, args.batch, args.width = [5, 20], 1, 8, 16
    if any(n < 1 for n in args.steps) or args.repeats < 1 or min(args.dim, args.width, args.batch) < 1:
        p.error("--steps, --repeats, --dim, --width and --batch must be positive")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        p.error(f"--device {args.device}: CUDA is not available here")
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    net = pk.nets.MLP(args.dim, args.dim, width=args.width, depth=2).double().to(device)
    u0 = torch.randn(args.batch, args.dim, dtype=torch.float64, device=device)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64, device=device)
    rows = []
    print(f"{'steps':>6} {'direct s':>10} {'adjoint s':>10} {'ratio':>6} {'direct MiB':>11} {'adjoint MiB':>12} "
          f"{'ratio':>7} {'grad diff':>10}")
    for n in args.steps:
        row = {"steps": n}
        grads = {}
        for mode in ("direct", "adjoint"):
            model = dyn.NeuralODE(dyn.Autonomous(net), method="rk4", step_size=1.0 / n, adjoint=mode == "adjoint")
            runs = [run_once(model, u0, t, device) for _ in range(args.repeats)]
            row[f"{mode}_seconds"] = statistics.median(r[0] for r in runs)
            row[f"{mode}_graph_bytes"] = max(r[1] for r in runs)
            if device.type == "cuda":
                row[f"{mode}_cuda_peak_bytes"] = max(r[2] for r in runs)
            grads[mode] = runs[-1][3]
        row["gradient_relative_difference"] = float((grads["direct"] - grads["adjoint"]).norm()
                                                    / grads["direct"].norm())
        rows.append(row)
        print(f"{n:>6} {row['direct_seconds']:>10.4f} {row['adjoint_seconds']:>10.4f} "
              f"{row['adjoint_seconds'] / row['direct_seconds']:>6.2f} {row['direct_graph_bytes'] / 2**20:>11.3f} "
              f"{row['adjoint_graph_bytes'] / 2**20:>12.3f} "
              f"{row['direct_graph_bytes'] / max(row['adjoint_graph_bytes'], 1):>7.1f} "
              f"{row['gradient_relative_difference']:>10.2e}")
    result = {"rows": rows, "dim": args.dim, "width": args.width, "batch": args.batch, "repeats": args.repeats,
              "device": str(device), "threads": torch.get_num_threads(), "torch": torch.__version__,
              "machine": platform.machine(), "processor": platform.processor()}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
