"""Seconds per Adam step: pinnkit (autograd, ZCS and Taylor-mode derivative engines, the last also compiled)
against DeepXDE, side by side.

DeepXDE's Burgers configuration, built the same way in both libraries: 2540 domain, 80 boundary and 160
initial points; an MLP 2-20-20-20-1 with tanh and Glorot-normal initialisation; float32; Adam with
learning rate 1e-3; the residual ``u_t + u u_x - (0.01/pi) u_xx``. Both run in this one process, on the CPU
(``--device cuda``: both on the GPU; DeepXDE's model is built and trained under that default device, and its
network is checked to be there).

Each library first trains ``--warmup`` steps, then ``--repeats`` rounds of ``--steps`` steps are timed
alternately (DeepXDE, pinnkit-autograd, -zcs, -taylor, -taylor-compiled), and the median of the rounds is
reported. ``pinnkit-taylor-compiled`` is ``Trainer(backend=pk.Backend("taylor", compile=True))``: its one-off
compilation happens in the warm-up, whose wall time is printed too. ``--json PATH`` writes ``{"pinnkit_s_per_step": ...
(the fastest pinnkit configuration, named in "pinnkit_method"), "deepxde_s_per_step": ..., one key per pinnkit
configuration, ...}``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import statistics
import time

import torch
from _deepxde import (  # benchmarks/ is on sys.path when a script here runs
    burgers_demo,
    check_device,
    import_deepxde,
    on_device,
)

import pinnkit as pk

NU = 0.01 / math.pi


def pinnkit_trainer(backend: str, device: str, seed: int, compile: bool = False) -> pk.Trainer:
    torch.manual_seed(seed)
    domain = pk.geometry.Interval(-1, 1) * pk.geometry.TimeDomain(0, 0.99)
    problem = pk.Problem(domain, lambda f: f.u_t + f.u * f.u_x - NU * f.u_xx, outputs="u", conditions=[
        pk.DirichletBC(domain.boundary, 0.0, n=80),
        pk.InitialCondition(lambda x: -torch.sin(math.pi * x[:, :1]), n=160)])
    net = pk.nets.MLP(2, 1, width=20, depth=3)
    return pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(2540, "random"),
                      backend=pk.Backend(backend, compile=compile), device=device, lr=1e-3, seed=seed)


def deepxde_model(seed: int, device: str):
    dde = import_deepxde()
    if dde is None:
        return None
    with on_device(device):
        model = dde.Model(*burgers_demo(dde, seed))
        with contextlib.redirect_stdout(io.StringIO()):
            model.compile("adam", lr=1e-3)
    check_device(model.net.parameters(), device)
    return model, dde.__version__


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=300, help="steps per timed round")
    p.add_argument("--repeats", type=int, default=5, help="timed rounds (median reported)")
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", default=None, metavar="PATH")
    args = p.parse_args(argv)

    runners = {}
    dde_info = deepxde_model(args.seed, args.device)
    if dde_info is not None:
        model, dde_version = dde_info

        def run_deepxde(n, model=model):
            with contextlib.redirect_stdout(io.StringIO()), on_device(args.device):
                model.train(iterations=n, display_every=10**9)

        runners["deepxde"] = run_deepxde
    variants = {"autograd": ("autograd", False), "zcs": ("zcs", False), "taylor": ("taylor", False),
                "taylor-compiled": ("taylor", True)}
    trainers = {name: pinnkit_trainer(b, args.device, args.seed, c) for name, (b, c) in variants.items()}
    for name, tr in trainers.items():
        runners[f"pinnkit-{name}"] = lambda n, tr=tr: tr.fit(n, progress=False, log_every=10**9)
    warmup_s = {}
    for name, run in runners.items():
        start = time.perf_counter()
        run(args.warmup)
        warmup_s[name] = time.perf_counter() - start
    times: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(args.repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            run(args.steps)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            times[name].append((time.perf_counter() - start) / args.steps)
    median = {k: statistics.median(v) for k, v in times.items()}
    params = sum(q.numel() for q in trainers["autograd"].net.parameters())
    print(f"Burgers step time, DeepXDE's configuration: 2540 + 80 + 160 points, MLP 2-20-20-20-1 tanh "
          f"({params} parameters), float32, Adam 1e-3, seed {args.seed}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, device {args.device}"
          + (f", deepxde {dde_version}" if dde_info is not None else ", deepxde not installed"))
    print(f"{'method':<24}{'ms/step (median)':>18}{'rounds (ms)':>40}{'vs DeepXDE':>12}{'warm-up s':>11}")
    for name, value in median.items():
        ratio = f"{value / median['deepxde']:.2f}x" if "deepxde" in median else "n/a"
        rounds = " ".join(f"{1e3 * t:.2f}" for t in times[name])
        print(f"{name:<24}{1e3 * value:>18.2f}{rounds:>40}{ratio:>12}{warmup_s[name]:>11.1f}")
    best = min((k for k in median if k.startswith("pinnkit")), key=median.get)
    print(f"fastest pinnkit configuration: {best}; the warm-up of {args.warmup} steps includes torch.compile's "
          "one-off compilation for the compiled variant")
    result = {"pinnkit_s_per_step": median[best], "pinnkit_method": best,
              "pinnkit_autograd_s_per_step": median["pinnkit-autograd"],
              "pinnkit_zcs_s_per_step": median["pinnkit-zcs"], "pinnkit_taylor_s_per_step": median["pinnkit-taylor"],
              "pinnkit_taylor_compiled_s_per_step": median["pinnkit-taylor-compiled"],
              "pinnkit_taylor_compile_warmup_s": warmup_s["pinnkit-taylor-compiled"],
              "deepxde_s_per_step": median.get("deepxde"), "parameters": params, "seed": args.seed,
              "dtype": "float32", "device": args.device, "steps": args.steps, "repeats": args.repeats,
              "torch_threads": torch.get_num_threads()}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
