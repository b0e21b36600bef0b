"""Physics-informed DeepONet training steps: pinnkit (ZCS, per-function loop, replicated points) against DeepXDE
(its ``dde.zcs`` path and its plain aligned path), side by side in one command.

``pinnkit-taylor`` is pinnkit's Taylor-mode backend (one forward jet pass of the trunk, no reverse-mode derivative
passes; :mod:`pinnkit.derivatives.operator_taylor`), ``pinnkit-taylor-compiled`` the same with the trunk's jet pass
through ``torch.compile`` (``OperatorTrainer(..., backend=pk.Backend("taylor", compile=True))``;
its one-off compilation happens before the warm-up and is reported as ``compile_s``), ``pinnkit-zcs`` the
zero-coordinate-shift backend.

DeepXDE's diffusion–reaction PI-DeepONet configuration, built the same way in both libraries:
``u_t - 0.01 u_xx + 0.01 u^2 - v = 0`` on ``[0, 1] x [0, 1]``, zero boundary and initial values; 1000 domain, 40
boundary and 20 initial points shared by all functions; sources from a Gaussian random field (length scale 0.2)
read at 50 sensors; DeepONet branch [50, 128, 128, 128], trunk [2, 128, 128, 128], tanh, Glorot normal; Adam with
learning rate 5e-4; float32; ``M`` functions per step.

Every (method, M) row runs in a fresh subprocess, so that its peak memory is its own: on the CPU the peak resident
set size of the process (``ru_maxrss``) minus its resident size after the set-up, just before the first step
(``peak_mem_mb``: what the training steps add; the raw peak, with the interpreter, torch and the data, is
``peak_rss_mb``), on a GPU ``torch.cuda.max_memory_allocated`` minus the memory allocated before the first step.
Seconds per step
are measured after ``--warmup`` steps, as the least of ``--repeats`` timings of ``--steps`` steps (on a shared
machine other processes only ever add time); DeepXDE's ``train`` also evaluates its losses at the start and the end of
each call, so its time per step is the difference of two calls of ``n`` and ``2n`` steps, divided by ``n``.
Slow rows (more than ~1 s per step) are timed over fewer steps (at least 2).

``--matmul-floor`` also times the matrix products alone that one Taylor-mode step needs (the trunk's four
Taylor streams forward and backward, the branch contractions): a lower bound on that step's time on the machine
(ZCS and reverse mode need more products), printed as a fraction of DeepXDE-ZCS's step.

``--json PATH`` writes one record per row: ``method``, ``M``, ``s_per_step``, ``peak_mem_mb`` (and ``N``,
``peak_rss_mb``, ``steps``, ``device``). ``--scaling`` adds the pinnkit-ZCS table over M (up to 1000) and the
number of domain points N (up to 8000).

Run: ``OMP_NUM_THREADS=1 python benchmarks/zcs_deeponet.py --json out/zcs_deeponet.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _timing import seconds_per_call  # benchmarks/ is on sys.path when a script here runs

METHODS = ("pinnkit-taylor", "pinnkit-taylor-compiled", "pinnkit-zcs", "pinnkit-loop", "pinnkit-replicated",
           "deepxde-zcs", "deepxde-aligned")
DEFAULT_METHODS = ("pinnkit-taylor", "pinnkit-taylor-compiled", "pinnkit-zcs", "pinnkit-loop", "deepxde-zcs",
                   "deepxde-aligned")
SENSORS, BRANCH, TRUNK, LR = 50, [50, 128, 128, 128], [2, 128, 128, 128], 5e-4


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ---------------------------------------------------------------------------------------------------- pinnkit
def pinnkit_runner(backend: str, m: int, n: int, device: str, seed: int):
    import pinnkit as pk

    compile = backend.endswith("-compiled")
    backend = backend.removesuffix("-compiled")
    torch.manual_seed(seed)
    domain = pk.geometry.Interval(0, 1) * pk.geometry.TimeDomain(0, 1)
    problem = pk.OperatorProblem(
        domain, lambda f: f.u_t - 0.01 * f.u_xx + 0.01 * f.u**2 - f.v, pk.functions.GaussianRandomField(0.2),
        np.linspace(0, 1, SENSORS), conditions=[pk.DirichletBC(domain.boundary, 0.0, n=40, method="random"),
                                                pk.InitialCondition(0.0, n=20, method="random")])
    net = pk.nets.DeepONet(BRANCH, TRUNK)
    trainer = pk.OperatorTrainer(problem, net, functions=m, batch_size=m, backend=pk.Backend(backend, compile=compile),
                                 lr=LR, device=device, sampler=pk.sampling.FixedPoints(n, "random"), seed=seed)

    def run(steps: int) -> float:
        start = time.perf_counter()
        trainer.fit(steps, progress=False, log_every=10**9)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return (time.perf_counter() - start) / steps

    return run


# ---------------------------------------------------------------------------------------------------- DeepXDE
def deepxde_runner(zcs: bool, m: int, n: int, device: str, seed: int):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _deepxde import check_device, import_deepxde, on_device

    dde = import_deepxde()
    if dde is None:
        return None
    dde.config.set_random_seed(seed)

    def pde_zcs(x, y, v):
        grad = dde.zcs.LazyGrad(x, y)
        return grad.compute((0, 1)) - 0.01 * grad.compute((2, 0)) + 0.01 * y**2 - v

    def pde_aligned(x, y, v):
        return dde.grad.jacobian(y, x, j=1) - 0.01 * dde.grad.hessian(y, x, j=0) + 0.01 * y**2 - v

    with on_device(device):
        geometry = dde.geometry.GeometryXTime(dde.geometry.Interval(0, 1), dde.geometry.TimeDomain(0, 1))
        bc = dde.icbc.DirichletBC(geometry, lambda _: 0, lambda _, on_boundary: on_boundary)
        ic = dde.icbc.IC(geometry, lambda _: 0, lambda _, on_initial: on_initial)
        pde = dde.data.TimePDE(geometry, pde_zcs if zcs else pde_aligned, [bc, ic], num_domain=n, num_boundary=40,
                               num_initial=20)
        data_class = dde.zcs.PDEOperatorCartesianProd if zcs else dde.data.PDEOperatorCartesianProd
        data = data_class(pde, dde.data.GRF(length_scale=0.2), np.linspace(0, 1, SENSORS)[:, None], m,
                          function_variables=[0], batch_size=m)
        net = dde.nn.DeepONetCartesianProd(BRANCH, TRUNK, "tanh", "Glorot normal")
        model = (dde.zcs.Model if zcs else dde.Model)(data, net)
        with contextlib.redirect_stdout(io.StringIO()):
            model.compile("adam", lr=LR)
    check_device(net.parameters(), device)

    def train(steps: int) -> float:
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), on_device(device):
            model.train(iterations=steps, display_every=10**9, verbose=0)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - start

    def run(steps: int) -> float:  # (t(2n) - t(n)) / n removes the loss evaluations at the start and end of train
        once = train(steps)
        twice = train(2 * steps)
        return max(twice - once, 1e-9) / steps

    return run


# ---------------------------------------------------------------------------------------------------- one row
def worker(method: str, m: int, n: int, steps: int, warmup: int, device: str, seed: int, repeats: int = 1) -> dict:
    if method.startswith("pinnkit"):
        run = pinnkit_runner(method.removeprefix("pinnkit-"), m, n, device, seed)
    else:
        run = deepxde_runner(method == "deepxde-zcs", m, n, device, seed)
        if run is None:
            return {"method": method, "M": m, "N": n, "skipped": "deepxde is not installed"}
    baseline = _rss_mb()  # after the set-up (imports, data, network), before the first step
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base_gpu = torch.cuda.memory_allocated()
    compile_s = None
    if method.endswith("-compiled"):  # the one-off compilations, kept out of the timings and of the step count:
        start = time.perf_counter()  # step 1 learns the multi-indices (a graph per request), step 2 compiles them all
        run(2)
        compile_s = time.perf_counter() - start
    first = run(1)  # warm-up and a first estimate of the cost
    if warmup > 1 and first < 1.0:
        run(warmup - 1)
    if first > 1.0:
        steps = max(2, min(steps, int(10 / first)))
    times = [run(steps) for _ in range(repeats if first < 1.0 else 1)]
    s_per_step = min(times)  # the least disturbed repeat (other processes only ever add time)
    record = {"method": method, "M": m, "N": n, "s_per_step": s_per_step, "steps": steps, "repeats": len(times),
              "device": device}
    if compile_s is not None:
        record["compile_s"] = compile_s
    if device.startswith("cuda"):
        record["peak_mem_mb"] = (torch.cuda.max_memory_allocated() - base_gpu) / 2**20
    else:
        record["peak_mem_mb"] = max(_peak_rss_mb() - baseline, 0.0)
    record["peak_rss_mb"] = _peak_rss_mb()
    return record


def run_row(method: str, m: int, n: int, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--worker", method, "--M", str(m), "--N", str(n), "--steps", str(args.steps),
           "--warmup", str(args.warmup), "--device", args.device, "--seed", str(args.seed), "--repeats",
           str(args.repeats)]
    env = dict(os.environ, DDE_BACKEND="pytorch")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"method": method, "M": m, "N": n, "error": (proc.stderr or proc.stdout)[-2000:]}
    return json.loads(lines[-1])


def print_table(rows: list[dict], title: str) -> None:
    print(f"\n{title}")
    print(f"{'method':<24} {'M':>5} {'N':>6} {'s/step':>10} {'peak MB':>10} {'peak RSS MB':>12} {'steps':>6}")
    for r in rows:
        if "s_per_step" not in r:
            print(f"{r['method']:<24} {r['M']:>5} {r['N']:>6}   {r.get('skipped') or 'failed: ' + r['error'][-300:]}")
            continue
        print(f"{r['method']:<24} {r['M']:>5} {r['N']:>6} {r['s_per_step']:>10.4f} {r['peak_mem_mb']:>10.1f} "
              f"{r['peak_rss_mb']:>12.1f} {r['steps']:>6}")


def matmul_floor(m: int, n: int, device: str, repeats: int = 5, rounds: int = 50) -> dict:
    """Seconds for the matrix products alone that one Taylor-mode step of this problem needs: a lower bound on its
    step time here (ZCS and reverse mode need more products, not fewer).

    u_t and u_xx need four Taylor streams through the trunk (value, d/dt, d/dx, d2/dx2; the value also at the
    60 condition points), each through the trunk's two 128 x 128 layers: one product forward, two backward (to the
    layer's input and to its weights). The branch contracts with the trunk twice (u, and the combined linear
    terms), each one product forward and two backward. The branch net (M rows) and the 2 -> 128 input layer are
    left out (small)."""
    gen = torch.Generator().manual_seed(0)
    width, cond = TRUNK[1], 60
    dev = torch.device(device)

    def rand(*shape):
        return torch.randn(*shape, generator=gen).to(dev)

    weights = [rand(width, width) for _ in TRUNK[2:]]
    streams = [rand(n + cond, width)] + [rand(n, width) for _ in range(3)]
    grads = [rand(*x.shape) for x in streams]
    branch = rand(m, width)
    trunks = [rand(n + cond, width), rand(n, width)]
    out_grads = [rand(m, n + cond), rand(m, n)]

    def step():
        for w in weights:
            for x, g in zip(streams, grads, strict=True):
                x @ w
                g @ w.T
                x.T @ g
        for t, g in zip(trunks, out_grads, strict=True):
            branch @ t.T
            g @ t
            g.T @ branch

    flop = 2 * width * (width * len(weights) * 3 * sum(len(x) for x in streams) + 3 * m * sum(len(t) for t in trunks))
    seconds = seconds_per_call(step, rounds, repeats, dev, warmup=1, summary=min)
    return {"method": "matmul-floor", "M": m, "N": n, "s_per_step": seconds, "gflop": flop / 1e9,
            "gflop_per_s": flop / seconds / 1e9, "device": device}


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(DEFAULT_METHODS))
    p.add_argument("--functions", type=int, nargs="+", default=[50, 100], help="M values (default 50 100)")
    p.add_argument("--points", type=int, default=1000, help="domain points N (default 1000)")
    p.add_argument("--steps", type=int, default=10, help="timed steps per row (fewer for slow rows)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats of --steps steps per row (fast rows); the "
                   "least disturbed one counts")
    p.add_argument("--scaling", action="store_true", help="also the pinnkit-ZCS table over M and N")
    p.add_argument("--matmul-floor", action="store_true", help="also time the matrix products alone that one "
                   "Taylor-mode step needs (a lower bound on its step time)")
    p.add_argument("--scaling-functions", type=int, nargs="+", default=[50, 100, 200, 500, 1000])
    p.add_argument("--scaling-points", type=int, nargs="+", default=[1000, 2000, 4000, 8000])
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None, help="write the records here")
    p.add_argument("--worker", choices=METHODS, default=None, help=argparse.SUPPRESS)
    p.add_argument("--M", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--N", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.M, args.N, args.steps, args.warmup, args.device, args.seed,
                                args.repeats)))
        return []
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, device {args.device}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, torch threads {torch.get_num_threads()}")
    rows = [run_row(method, m, args.points, args) for m in args.functions for method in args.methods]
    print_table(rows, f"seconds per Adam step and peak memory, N = {args.points} domain + 60 condition points")
    by = {(r["method"], r["M"]): r for r in rows if "s_per_step" in r}
    for m in args.functions:
        zcs, loop, dz = by.get(("pinnkit-zcs", m)), by.get(("pinnkit-loop", m)), by.get(("deepxde-zcs", m))
        for method in ("pinnkit-zcs", "pinnkit-taylor", "pinnkit-taylor-compiled"):
            if (row := by.get((method, m))) and dz:
                print(f"M = {m}: {method} step time / DeepXDE-ZCS = {row['s_per_step'] / dz['s_per_step']:.3f}")
        if zcs and loop:
            print(f"M = {m}: pinnkit-loop / pinnkit-ZCS peak memory = "
                  f"{loop['peak_mem_mb'] / max(zcs['peak_mem_mb'], 1e-9):.1f}x, step time = "
                  f"{loop['s_per_step'] / zcs['s_per_step']:.1f}x")
    if args.matmul_floor:
        for m in args.functions:
            floor = matmul_floor(m, args.points, args.device)
            print(f"M = {m}: the step's matrix products alone ({floor['gflop']:.3f} GFLOP) take "
                  f"{floor['s_per_step'] * 1e3:.2f} ms ({floor['gflop_per_s']:.0f} GFLOP/s)"
                  + (f", {floor['s_per_step'] / dz['s_per_step']:.3f} of DeepXDE-ZCS's step"
                     if (dz := by.get(("deepxde-zcs", m))) else ""))
            rows.append(floor)
    if args.scaling:
        scaling = [run_row("pinnkit-zcs", m, n, args) for n in args.scaling_points for m in args.scaling_functions]
        print_table(scaling, "pinnkit-ZCS scaling over M functions and N domain points")
        rows += scaling
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return rows


if __name__ == "__main__":
    main()
