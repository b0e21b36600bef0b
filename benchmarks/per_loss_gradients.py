"""Per-loss gradients on the Burgers problem: one vmapped backward pass against a loop of backward passes.

The multi-loss optimizers (MultiAdam, ConFIG, PCGrad) need the gradient of every loss term, not of their sum.
For the Burgers example's problem (``examples/burgers.py`` ``build_problem``: PDE, boundary and initial terms,
all from one forward pass over the concatenated points) this script times, per training step,

* ``forward``: the Trainer's losses only;
* ``sum``: forward + one backward pass of the summed loss (what plain Adam needs);
* ``loop``: forward + ``per_loss_gradients(..., "loop")``: one backward pass per loss, ``retain_graph=True``;
* ``batched``: forward + ``per_loss_gradients(..., "batched")``: one backward pass vmapped over the stacked losses
  (``torch.autograd.grad(..., is_grads_batched=True)``),

for each derivative backend, and checks that the two per-loss methods agree (max |batched - loop| over
max |loop|, per parameter tensor). Default net and points: the example's (MLP 2-20x3-1, 2540 points, 200
boundary, 400 initial); ``--width 50 --depth 5 --points 2000 --boundary 50 --initial 50`` is the ConFIG paper's
setting. Timings are medians over ``--repeats`` rounds of ``--steps`` steps. ``--json PATH`` writes the table.

    python benchmarks/per_loss_gradients.py
    python benchmarks/per_loss_gradients.py --device cuda --dtype float32 --json out/per_loss_gradients.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from _timing import seconds_per_call  # noqa: E402  (benchmarks/ is on sys.path when a script here runs)
from burgers import build_problem  # noqa: E402  (the example's problem, not a copy)

import pinnkit as pk  # noqa: E402
from pinnkit.optim import per_loss_gradients  # noqa: E402


def measure(trainer: pk.Trainer, steps: int, repeats: int, device: torch.device) -> dict:
    """Seconds per step of each way to get the gradients, and how far batched and loop are apart."""
    params = trainer.trainable_parameters()

    def terms():
        return list(trainer.losses()[1].values())

    methods = {
        "forward": terms,
        "sum": lambda: torch.autograd.grad(sum(terms()), params),
        "loop": lambda: per_loss_gradients(terms(), params, "loop"),
        "batched": lambda: per_loss_gradients(terms(), params, "batched"),
    }
    times = {name: seconds_per_call(fn, steps, repeats, device) for name, fn in methods.items()}
    losses = terms()
    loop = per_loss_gradients(losses, params, "loop", retain_graph=True)
    batched = per_loss_gradients(losses, params, "batched")
    tiny = torch.finfo(trainer.dtype).tiny
    disagreement = max(float((b - a).abs().max() / a.abs().max().clamp_min(tiny))
                       for a, b in zip(loop, batched, strict=True))
    return {"s_per_step": times, "batched_vs_loop_rel_diff": disagreement}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--points", type=int, default=2540)
    p.add_argument("--boundary", type=int, default=200)
    p.add_argument("--initial", type=int, default=400)
    p.add_argument("--width", type=int, default=20)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--backends", nargs="+", choices=pk.derivatives.backend_names("pinn"),
                   default=list(pk.derivatives.backend_names("pinn")))
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=20, help="steps per timed round (default 20)")
    p.add_argument("--repeats", type=int, default=5, help="timed rounds, median reported (default 5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None, metavar="PATH")
    args = p.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        p.error(f"--device {args.device}: CUDA is not available here")
    dtype, device = getattr(torch, args.dtype), torch.device(args.device)

    problem = build_problem(n_boundary=args.boundary, n_initial=args.initial)
    rows = {}
    for backend in args.backends:
        torch.manual_seed(args.seed)
        net = pk.nets.MLP(2, 1, width=args.width, depth=args.depth, input_bounds=problem.domain.bbox)
        trainer = pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(args.points, "sobol"), dtype=dtype,
                             device=device, backend=backend, seed=args.seed)
        rows[backend] = measure(trainer, args.steps, args.repeats, device)

    n_params = sum(q.numel() for q in net.parameters())
    print(f"Per-loss gradients, Burgers: {args.points} collocation + {args.boundary} boundary + {args.initial} "
          f"initial points, MLP 2-{args.width}x{args.depth}-1 tanh ({n_params} parameters), {len(problem.terms)} "
          f"terms, {args.dtype}, {args.device}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; median of {args.repeats} rounds of {args.steps} steps")
    print(f"{'backend':<10}{'forward':>10}{'sum':>10}{'loop':>10}{'batched':>10}{'batched/loop':>14}"
          f"{'loop/sum':>10}{'rel. diff':>11}   (ms per step)")
    for backend, row in rows.items():
        t = row["s_per_step"]
        print(f"{backend:<10}{1e3 * t['forward']:>10.2f}{1e3 * t['sum']:>10.2f}{1e3 * t['loop']:>10.2f}"
              f"{1e3 * t['batched']:>10.2f}{t['batched'] / t['loop']:>13.2f}x{t['loop'] / t['sum']:>9.2f}x"
              f"{row['batched_vs_loop_rel_diff']:>11.1e}")
    result = {"settings": vars(args), "parameters": n_params, "terms": list(problem.terms), "rows": rows,
              "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                          "threads": torch.get_num_threads()}}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
