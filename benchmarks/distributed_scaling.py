"""Strong and weak scaling of data-parallel training (``pinnkit.distributed``): seconds per step of a PINN
(Burgers, Kovasznay) and of a physics-informed DeepONet, one process against several.

Every configuration runs in a fresh interpreter (so its thread count is its own): ``1x1`` and ``1xT`` are one
process with 1 and ``--threads`` T threads; ``WxK`` are W gloo ranks (``torch.multiprocessing``) with K = T / W
threads each, on the CPU. With ``--device cuda``, ``1x`` is one GPU and ``W`` ranks use NCCL and one GPU each.

* **strong** scaling: the same global problem (``--points`` collocation points; the operator step's
  ``--function-points`` points per function, or with ``--operator-split functions`` its ``--functions``
  functions per step) split over the ranks;
* **weak** scaling: ``--points`` (``--function-points``, ``--functions``) per rank, so W ranks train on W times
  as many.

For each case the report gives seconds per Adam step (the median of ``--repeats`` rounds of ``--steps`` steps,
after ``--warmup`` steps; with ``--passes P``, every configuration is measured P times in turn and the median
pass is reported, so that a machine whose speed drifts during the run affects each configuration alike), the
share of a step the ranks spend in collectives (sums, all-gathers, broadcasts: rank 0's time inside
``torch.distributed``, waiting for the other rank included), and

* ``strong_efficiency = t(1 process, K threads) / (W t(W ranks, K threads each))``;
* ``weak_efficiency = t(1 process, N points, K threads) / t(W ranks, N points each, K threads each)``;
* ``speedup_over_one_process = t(1 process, T threads) / t(W ranks)``: on this 2-core CPU the issue's bar is
  two 1-thread ranks at least as fast per step as one 2-thread process (a ratio >= 1).

``--cpu-affinity`` gives each rank CPUs of its own (``DataParallel(cpu_affinity=True)``); the one-process
configurations are left to the operating system either way.

``python benchmarks/distributed_scaling.py --json scaling.json`` (about 5 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from _examples import load_example, write_report  # benchmarks/ is on sys.path when a script here runs

import pinnkit as pk
from pinnkit.distributed import collectives

CASES = ("burgers", "kovasznay", "operator")


def build(case: str, config: dict[str, Any], distributed) -> pk.training.TrainingLoop:
    """The trainer of ``case`` (module docstring) with ``distributed`` (False for one process)."""
    dtype, device, seed = getattr(torch, config["dtype"]), config["device"], config["seed"]
    # the trainers' own default engines (autograd for a PINN, ZCS for an operator) unless --backend names one
    engine = {} if config["backend"] is None else {"backend": pk.Backend(config["backend"], compile=config["compile"])}
    torch.manual_seed(seed)
    if case == "burgers":
        example = load_example("burgers")
        problem = example.build_problem()
        net = example.build_net(problem.domain, 20, 6, "soft")
        return pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(config["points"], "random"), lr=1e-3,
                          **engine, dtype=dtype, device=device, seed=seed, distributed=distributed)
    if case == "kovasznay":
        example = load_example("kovasznay")
        problem = example.build_problem(300)
        net = pk.nets.MLP(2, 3, width=32, depth=3, input_bounds=problem.domain.bbox)
        return pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(config["points"], "sobol"), lr=1e-3,
                          **engine, dtype=dtype, device=device, seed=seed, distributed=distributed)
    example = load_example("pideeponet_diffusion_reaction")
    # the operator Taylor engine needs a bare DeepONet, so its conditions are soft (penalised), not built in
    problem, net = example.build(argparse.Namespace(soft=config["backend"] == "taylor", width=64))
    return pk.OperatorTrainer(problem, net, functions=config["pool"], batch_size=config["functions"],
                              sampler=pk.sampling.FixedPoints(config["function_points"], "random"), lr=1e-3,
                              **engine, dtype=dtype, device=device, seed=seed, distributed=distributed)


class CollectiveTimer:
    """Seconds spent in collectives while installed (``with`` block): pinnkit's sums over the ranks
    (:func:`pinnkit.distributed.collectives.all_reduce_sum`) and ``torch.distributed``'s all-gathers and
    broadcasts."""

    def __init__(self):
        self.seconds = 0.0
        self._saved: list = []

    def __enter__(self) -> CollectiveTimer:
        for module, name in ((collectives, "all_reduce_sum"), (dist, "all_gather"), (dist, "broadcast")):
            original = getattr(module, name)
            self._saved.append((module, name, original))

            def timed(*args, _original=original, **kwargs):
                start = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.seconds += time.perf_counter() - start

            setattr(module, name, timed)
        return self

    def __exit__(self, *exc) -> None:
        for module, name, original in self._saved:
            setattr(module, name, original)


def synchronize(device: str, ranks: int) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    if ranks > 1:
        dist.barrier()


def measure(config: dict[str, Any]) -> dict[str, Any]:
    """Seconds per step of one configuration on this rank (or this single process)."""
    torch.set_num_threads(config["threads"])
    if config["collectives"] == "torch":  # the comparison: every sum by torch.distributed.all_reduce
        collectives.all_reduce_sum = lambda tensor, ranks: dist.all_reduce(tensor)
    ranks = config["ranks"]
    distributed = False if ranks == 1 else pk.distributed.DataParallel(
        scaling=config["scaling"], operator_split=config["operator_split"], cpu_affinity=config["cpu_affinity"])
    trainer = build(config["case"], config, distributed)
    trainer.fit(config["warmup"], progress=False)
    rounds, comm = [], []
    for _ in range(config["repeats"]):
        synchronize(config["device"], ranks)
        with CollectiveTimer() as timer:
            start = time.perf_counter()
            trainer.fit(config["steps"], progress=False)
            synchronize(config["device"], ranks)
            rounds.append((time.perf_counter() - start) / config["steps"])
        comm.append(timer.seconds / config["steps"])
    best = int(np.argsort(rounds)[len(rounds) // 2])  # the median round, and its communication
    return {"s_per_step": rounds[best], "comm_s_per_step": comm[best], "rounds": rounds,
            "parameters": sum(p.numel() for p in trainer.net.parameters()),
            "final_loss": float(trainer.history[-1]["loss"])}


def _rank(rank: int, config: dict[str, Any], port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(config["ranks"]),
                      RANK=str(rank), LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(config["ranks"]))
    device = config["device"]
    if device.startswith("cuda"):
        torch.cuda.set_device(rank)
        config = {**config, "device": f"cuda:{rank}"}
    dist.init_process_group("nccl" if device.startswith("cuda") else "gloo", rank=rank,
                            world_size=config["ranks"], timeout=datetime.timedelta(seconds=300))
    try:
        result = measure(config)
        if rank == 0:
            Path(out).write_text(json.dumps(result))
        dist.barrier()  # tear down together (tests/distributed/launch.py)
    finally:
        dist.destroy_process_group()


def run_configuration(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` measured in a fresh interpreter (this script with ``--measure``)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(config["threads"])}
    done = subprocess.run([sys.executable, __file__, "--measure", json.dumps(config)], env=env, text=True,
                          capture_output=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{config['label']} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_here(config: dict[str, Any]) -> dict[str, Any]:
    """The ``--measure`` entry point: one process, or ``ranks`` spawned ranks reporting rank 0's numbers."""
    if config["ranks"] == 1:
        return measure(config)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "rank0.json")
        mp.spawn(_rank, args=(config, port, out), nprocs=config["ranks"], join=True)
        return json.loads(Path(out).read_text())


def configurations(args: argparse.Namespace, case: str) -> list[dict[str, Any]]:
    base = {"case": case, "dtype": args.dtype, "device": args.device, "seed": args.seed, "steps": args.steps,
            "repeats": args.repeats, "warmup": args.warmup, "points": args.points, "functions": args.functions,
            "function_points": args.function_points, "scaling": "strong", "operator_split": args.operator_split,
            "cpu_affinity": args.cpu_affinity, "backend": args.backend, "compile": args.compile,
            "collectives": args.collectives}
    gpu = args.device.startswith("cuda")
    per_rank = {w: 1 if gpu else max(args.threads // w, 1) for w in [1, *args.ranks]}
    configs = [{**base, "label": f"1x{per_rank[w]}", "ranks": 1, "threads": per_rank[w]}
               for w in sorted(set(per_rank), reverse=True) if not gpu or w == 1]
    configs = list({c["label"]: c for c in configs}.values())
    for w in args.ranks:
        for scaling in ("strong", "weak"):
            configs.append({**base, "label": f"{w}x{per_rank[w]} {scaling}", "ranks": w, "threads": per_rank[w],
                            "scaling": scaling})
    for c in configs:
        c["pool"] = max(args.functions * max(args.ranks), 64)
    return configs


def median_pass(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The pass with the median seconds per step, with every pass's seconds per step (``"passes"``)."""
    best = results[int(np.argsort([r["s_per_step"] for r in results])[len(results) // 2])]
    return {**best, "passes": [r["s_per_step"] for r in results]}


def summarise(case: str, runs: dict[str, dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    gpu = args.device.startswith("cuda")
    single = {label: r for label, r in runs.items() if label.startswith("1x")}
    most = min(single.values(), key=lambda r: r["s_per_step"]) if gpu else single[f"1x{args.threads}"]
    table = {}
    for w in args.ranks:
        k = 1 if gpu else max(args.threads // w, 1)
        baseline = single[f"1x{k}"]["s_per_step"]
        strong, weak = runs[f"{w}x{k} strong"], runs[f"{w}x{k} weak"]
        table[str(w)] = {
            "ranks": w, "threads_per_rank": k,
            "strong_s_per_step": strong["s_per_step"], "weak_s_per_step": weak["s_per_step"],
            "strong_efficiency": baseline / (w * strong["s_per_step"]),
            "weak_efficiency": baseline / weak["s_per_step"],
            "speedup_over_one_process": most["s_per_step"] / strong["s_per_step"],
            "strong_communication_share": strong["comm_s_per_step"] / strong["s_per_step"],
            "weak_communication_share": weak["comm_s_per_step"] / weak["s_per_step"],
        }
    return {"case": case, "parameters": next(iter(runs.values()))["parameters"], "runs": runs, "scaling": table}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    p.add_argument("--ranks", nargs="+", type=int, default=[2], help="rank counts to compare with one process")
    p.add_argument("--threads", type=int, default=2, help="CPU threads in all (T): 1xT against W ranks x T/W")
    p.add_argument("--points", type=int, default=8192, help="collocation points (per rank for weak scaling)")
    p.add_argument("--functions", type=int, default=32, help="operator step: functions per step")
    p.add_argument("--function-points", type=int, default=256, help="operator step: points per function")
    p.add_argument("--operator-split", choices=("points", "functions"), default="points",
                   help="operator step: what the ranks divide (DataParallel(operator_split=...))")
    p.add_argument("--cpu-affinity", action="store_true",
                   help="each rank on CPUs of its own (DataParallel(cpu_affinity=True))")
    p.add_argument("--backend", default=None,
                   help="derivative engine of every case (pk.Backend); default: each trainer's own")
    p.add_argument("--compile", action="store_true", help="with --backend: compile its passes (compile=True)")
    p.add_argument("--collectives", choices=("pinnkit", "torch"), default="pinnkit",
                   help="sums over the ranks by pinnkit's all_reduce_sum, or all by torch.distributed.all_reduce")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--passes", type=int, default=1,
                   help="measure every configuration this many times, in turn, and report the median pass")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default=None)
    p.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure_here(json.loads(args.measure))))
        return {}
    if args.passes < 1:
        p.error("--passes: at least 1")
    if any(w < 2 for w in args.ranks):
        p.error("--ranks: counts of at least 2")
    if args.device.startswith("cuda") and torch.cuda.device_count() < max(args.ranks):
        p.error(f"--ranks {max(args.ranks)} needs as many GPUs; this machine has {torch.cuda.device_count()}")
    report: dict[str, Any] = {
        "torch": torch.__version__, "python": platform.python_version(), "cpu_count": os.cpu_count(),
        "device": args.device, "dtype": args.dtype, "seed": args.seed, "threads": args.threads,
        "points": args.points, "functions": args.functions, "function_points": args.function_points,
        "operator_split": args.operator_split, "cpu_affinity": args.cpu_affinity,
        "backend": args.backend, "compile": args.compile, "collectives": args.collectives,
        "steps": args.steps, "repeats": args.repeats, "warmup": args.warmup, "passes": args.passes, "cases": {}}
    for case in args.cases:
        passes: dict[str, list[dict[str, Any]]] = {}
        for _ in range(args.passes):  # every configuration once per pass: a drifting machine speed hits all alike
            for config in configurations(args, case):
                passes.setdefault(config["label"], []).append(run_configuration(config))
                last = passes[config["label"]][-1]
                print(f"{case:9s} {config['label']:12s} {last['s_per_step'] * 1e3:8.2f} ms/step "
                      f"(communication {last['comm_s_per_step'] * 1e3:6.2f} ms)", flush=True)
        runs = {label: median_pass(results) for label, results in passes.items()}
        report["cases"][case] = summarise(case, runs, args)
        for w, row in report["cases"][case]["scaling"].items():
            print(f"{case:9s} {w} ranks: strong efficiency {row['strong_efficiency']:.2f}, weak "
                  f"{row['weak_efficiency']:.2f}, speed-up over 1x{args.threads} "
                  f"{row['speedup_over_one_process']:.2f}, communication {row['strong_communication_share']:.0%}"
                  f" (strong) {row['weak_communication_share']:.0%} (weak)", flush=True)
    return write_report(args.json, report)


if __name__ == "__main__":
    main()
