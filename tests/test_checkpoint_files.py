"""Reading and writing checkpoint files safely: every bad file is one error (CheckpointError) naming the file and
what is wrong; specs and formulas from files are checked before anything is built; paths are checked before
training; saves leave no temporary files, ordinary file modes, and a synced directory."""

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import pinnkit as pk
from pinnkit.checkpoint import load_checkpoint, save_atomic
from pinnkit.errors import CheckpointError
from pinnkit.nets.registry import build_net


def small_trainer(seed: int = 0) -> pk.Trainer:
    torch.manual_seed(seed)
    domain = pk.geometry.Interval(-1, 1)
    problem = pk.Problem(domain, lambda f: f.u_xx + 1.0, outputs="u", conditions=[
        pk.DirichletBC(domain.boundary, 0.0, n=2)])
    net = pk.nets.MLP(1, 1, width=4, depth=1)
    return pk.Trainer(problem, net, sampler=pk.sampling.FixedPoints(16), seed=seed)


def checkpoint_bytes(tmp_path: Path) -> bytes:
    t = small_trainer()
    t.fit(2, progress=False)
    t.save(tmp_path / "good.pt")
    return (tmp_path / "good.pt").read_bytes()


# ------------------------------------------------------------------ bad files: one error type, naming the file
def write_bad(kind: str, path: Path, tmp_path: Path) -> None:
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        data = checkpoint_bytes(tmp_path)
        path.write_bytes(data[: len(data) // 2])
    elif kind == "random bytes":
        path.write_bytes(bytes(range(256)) * 8)
    elif kind == "text":
        path.write_text("not a checkpoint\n")
    elif kind == "a list":
        torch.save([1, 2, 3], path)
    elif kind == "a foreign dict":
        torch.save({"state_dict": {"w": torch.zeros(3)}}, path)
    elif kind == "a directory":
        path.mkdir()
    elif kind != "missing":
        raise AssertionError(kind)


BAD = {"empty": "is empty", "truncated": "truncated or not a torch file", "random bytes": "not a torch file",
       "text": "not a torch file", "a list": "not a pinnkit checkpoint: it holds list",
       "a foreign dict": "not a pinnkit checkpoint", "a directory": "is a directory", "missing": "does not exist"}


@pytest.mark.parametrize("kind", BAD)
def test_bad_files_are_one_error_naming_the_file_and_what_is_wrong(tmp_path, kind):
    path = tmp_path / "bad file.pt"
    write_bad(kind, path, tmp_path)
    for read in (pk.load, lambda p: small_trainer().load_state(p), load_checkpoint):
        with pytest.raises(CheckpointError, match="bad file.pt") as info:
            read(path)
        assert BAD[kind] in str(info.value)
        assert isinstance(info.value, ValueError)


def test_a_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    torch.save({"format": "pinnkit-checkpoint", "version": 1, "x": Payload()}, path)
    with pytest.raises(CheckpointError, match=r"evil\.pt.*refused.*pickled Python objects"):
        pk.load(path)
    assert not marker.exists()


def test_a_checkpoint_of_another_kind_or_without_a_model_says_so(tmp_path):
    save_atomic({"kind": "operator", "step": 0}, tmp_path / "op.pt")
    with pytest.raises(CheckpointError, match=r"op\.pt.* holds a 'operator' state, not a 'pinn' one"):
        small_trainer().load_state(tmp_path / "op.pt")
    with pytest.raises(CheckpointError, match=r"op\.pt.* lacks the entries \['net', 'parameters', 'problem'\]"):
        pk.load(tmp_path / "op.pt")


def test_weights_that_do_not_fit_the_recorded_network_are_a_checkpoint_error(tmp_path):
    t = small_trainer()
    state = t.state_dict()
    state["net"] = {"hidden.0.weight": torch.zeros(2, 2)}
    save_atomic(state, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match=r"mismatch\.pt.*weights do not fit"):
        pk.load(tmp_path / "mismatch.pt")


# ------------------------------------------------------------------ limits, checked before building
_CAPPED = textwrap.dedent("""
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))   # 3 GiB: a 6.4 GB net cannot be allocated
    import pinnkit as pk
    from pinnkit.checkpoint import save_atomic
    from pinnkit.nets.registry import build_net
    out = {}
    path = sys.argv[1]
    spec = {"class": "MLP", "config": {"inputs": 1, "outputs": 1, "width": 40000, "depth": 2}}
    save_atomic({"kind": "pinn", "net": {}, "net_spec": spec, "parameters": {},
                 "problem": {"coordinates": ["x"], "outputs": ["u"]}}, path)
    out["size"] = __import__("os").path.getsize(path)
    for name, call in [("load", lambda: pk.load(path)),
                       ("wide", lambda: build_net("MLP", spec["config"])),
                       ("deep", lambda: build_net("MLP", {"inputs": 1, "outputs": 1, "width": 1, "depth": 10**7}))]:
        try:
            call()
            out[name] = "built"
        except Exception as err:
            out[name] = [type(err).__name__, str(err)]
    print(json.dumps(out))
""")


def test_a_tiny_spec_asking_for_a_huge_network_is_refused_before_allocation(tmp_path):
    # run under a 3 GiB address-space limit, so that even a pinnkit without the check cannot take 6.4 GB
    path = tmp_path / "huge.pt"
    done = subprocess.run([sys.executable, "-c", _CAPPED, str(path)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(pk.__file__).parent.parent)})
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["size"] < 4096  # a few KB of file
    kind, message = out["load"]
    assert kind == "CheckpointError" and "huge.pt" in message
    assert "1,600,160,001 parameters" in message and "max_parameters=100,000,000" in message
    assert out["wide"][0] == "ValueError" and "max_parameters" in out["wide"][1]
    assert out["deep"][0] == "ValueError" and "depth=10000000; at most MAX_LAYERS=1000" in out["deep"][1]


def test_max_parameters_is_a_stated_limit_that_an_argument_overrides(tmp_path):
    config = {"inputs": 2, "outputs": 1, "width": 30, "depth": 2}  # 30*2+30 + 30*30+30 + 30+1 = 1051
    with pytest.raises(ValueError, match=r"1,051 parameters and buffers, more than max_parameters=1,000"):
        build_net("MLP", config, max_parameters=1000)
    assert sum(p.numel() for p in build_net("MLP", config, max_parameters=1051).parameters()) == 1051
    t = small_trainer()
    t.save(tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match=r"m\.pt.*more than max_parameters=5"):
        pk.load(tmp_path / "m.pt", max_parameters=5)
    assert pk.load(tmp_path / "m.pt", max_parameters=13).parameters == {}
    with pytest.raises(ValueError, match="max_parameters must be a positive integer"):
        build_net("MLP", config, max_parameters=0)


def limit_cases():
    n = pk.nets
    return {"MLP with bounds": n.MLP(2, 1, 8, 2, input_bounds=[[0, 0], [1, 1]]),
            "ModifiedMLP": n.ModifiedMLP(2, 1, 8, 3),
            "DeepONet": n.DeepONet([5, 8, 4], [2, 8, 4], outputs=2),
            "HardConstraint": n.HardConstraint(n.MLP(2, 1, 4, 1), n.Expression("x*t", ("x", "t")),
                                               n.Expression("x", ("x", "t"))),
            "MLP with FourierFeatures": n.MLP(2, 1, 4, 1, embedding=n.FourierFeatures(2, 3, seed=1)),
            "TimeWindows": n.TimeWindows([n.MLP(2, 1, 4, 1), n.MLP(2, 1, 4, 1)], [0.0, 0.5, 1.0])}


@pytest.mark.parametrize("name", limit_cases())
def test_every_pinnkit_net_is_counted_exactly_before_it_is_built(name):
    net = limit_cases()[name]
    spec = pk.nets.net_spec(net)
    size = sum(p.numel() for p in net.parameters()) + sum(b.numel() for b in net.buffers())
    with pytest.raises(ValueError, match=f"{size:,} parameters and buffers, more than max_parameters={size - 1:,}"):
        build_net(spec["class"], spec["config"], max_parameters=size - 1)
    rebuilt = build_net(spec["class"], spec["config"], max_parameters=size)
    assert all(p.device.type == "cpu" for p in rebuilt.parameters())


def test_deeply_nested_specs_are_refused():
    spec = {"class": "MLP", "config": {"inputs": 1, "outputs": 1, "width": 2, "depth": 1}}
    for _ in range(20):
        spec = {"class": "TimeWindows", "config": {"nets": [spec], "edges": [0.0, 1.0]}}
    with pytest.raises(ValueError, match="MAX_NESTING=16"):
        build_net(spec["class"], spec["config"])


@pytest.mark.parametrize("text, match", [
    ("x+" * 5000 + "x", "more than MAX_LENGTH=10,000"),
    ("+".join(["x"] * 1500), "more than MAX_NODES=2,000"),
    ("-" * 150 + "x", "nests deeper than MAX_NESTING=100"),
    ("sin(" * 150 + "x" + ")" * 150, "nests deeper than MAX_NESTING=100"),
    ("9" * 400 + "*x", "is not finite in float64"),
    ("1e999*x", "is not finite in float64"),
])
def test_oversized_expressions_are_refused_before_they_are_compiled(text, match):
    with pytest.raises(ValueError, match=match):
        pk.nets.Expression(text, ("x",))
    with pytest.raises(ValueError, match=match):
        build_net("Expression", {"text": text, "coordinates": ["x"]})


# ------------------------------------------------------------------ paths checked before training
def test_a_checkpoint_path_under_a_file_fails_before_any_training_step(tmp_path):
    (tmp_path / "afile").write_text("")
    t = small_trainer()
    with pytest.raises(CheckpointError, match=r"Checkpoint path .*afile.*c\.pt.*afile is not a directory"):
        t.fit(50, callbacks=[pk.callbacks.Checkpoint(tmp_path / "afile" / "c.pt", every=10)], progress=False)
    assert t.step == 0


def test_save_to_a_path_under_a_file_is_a_checkpoint_error_and_writes_nothing(tmp_path):
    (tmp_path / "afile").write_text("keep")
    t = small_trainer()
    with pytest.raises(CheckpointError, match=r"cannot write the checkpoint .*afile.*m\.pt.*not a directory"):
        t.save(tmp_path / "afile" / "sub" / "m.pt")
    assert (tmp_path / "afile").read_text() == "keep" and sorted(os.listdir(tmp_path)) == ["afile"]
    (tmp_path / "adir").mkdir()
    with pytest.raises(CheckpointError, match="it is a directory"):
        t.save(tmp_path / "adir")


def cli_parser() -> "pk.cli.argparse.ArgumentParser":
    import argparse

    p = argparse.ArgumentParser(prog="problem")
    pk.cli.add_common_options(p, ("steps", "out"), {"steps": 10}, out={"default": Path("out/x")})
    return p


@pytest.mark.parametrize("where, match", [("afile/run", "afile is not a directory"),
                                          ("afile", "it exists and is not a directory")])
def test_an_unusable_out_is_an_argument_error(tmp_path, capsys, where, match):
    (tmp_path / "afile").write_text("")
    p = cli_parser()
    with pytest.raises(SystemExit):
        pk.cli.resolve_options(p, p.parse_args(["--out", str(tmp_path / where)]), {"steps": 10}, {"steps": 1})
    err = capsys.readouterr().err
    assert f"--out {tmp_path / where}: " in err and match in err
    args = pk.cli.resolve_options(p, p.parse_args(["--out", str(tmp_path / "new" / "run")]), {"steps": 10}, {})
    assert args.out == tmp_path / "new" / "run"


@pytest.mark.parametrize("script", ["collocation_points", "lotka_volterra_ude", "neural_ode_spiral", "neural_sde_ou"])
def test_scripts_with_their_own_options_check_out_too(tmp_path, capsys, script):
    import importlib.util

    (tmp_path / "afile").write_text("")
    path = Path(pk.__file__).parent.parent / "examples" / f"{script}.py"
    spec = importlib.util.spec_from_file_location(f"_check_out_{script}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit):
        module.parse_args(["--quick", "--out", str(tmp_path / "afile" / "run")])
    assert "afile is not a directory" in capsys.readouterr().err


def read_only(directory: Path) -> bool:
    """Make ``directory`` read-only; False where that has no effect (running as root)."""
    directory.chmod(0o555)
    return not os.access(directory, os.W_OK)


def test_read_only_directories_are_refused_before_training(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    try:
        if not read_only(ro):
            pytest.skip("chmod does not stop this user (root) from writing")
        t = small_trainer()
        with pytest.raises(CheckpointError, match="is not writable"):
            t.fit(5, callbacks=[pk.callbacks.Checkpoint(ro / "c.pt")], progress=False)
        assert t.step == 0
        with pytest.raises(CheckpointError, match="is not writable"):
            t.save(ro / "m.pt")
        p = cli_parser()
        with pytest.raises(SystemExit):
            pk.cli.resolve_options(p, p.parse_args(["--out", str(ro / "run")]), {"steps": 10}, {})
        assert "is not writable" in capsys.readouterr().err
    finally:
        ro.chmod(0o755)


# ------------------------------------------------------------------ temporary files, modes, fsync
_INTERRUPTED = textwrap.dedent("""
    import os, sys
    from pinnkit.checkpoint import save_atomic
    os.replace = lambda *a: os._exit(3)      # the process dies between writing the temporary file and renaming it
    save_atomic({"x": 1}, sys.argv[1])
""")


def temporaries(directory: Path, name: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(f".{name}."))


def test_temporary_files_are_removed_on_errors_and_after_interrupted_saves(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    save_atomic({"x": 0}, path)
    # a save that fails in this process removes its temporary file and keeps the old checkpoint
    with monkeypatch.context() as m:
        m.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
        with pytest.raises(OSError, match="disk full"):
            save_atomic({"x": 1}, path)
    assert temporaries(tmp_path, "c.pt") == [] and load_checkpoint(path)["x"] == 0
    # a process killed mid-save leaves its temporary file; the next save to the same target removes it
    done = subprocess.run([sys.executable, "-c", _INTERRUPTED, str(path)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(Path(pk.__file__).parent.parent)})
    assert done.returncode == 3, done.stderr[-2000:]
    left = temporaries(tmp_path, "c.pt")
    assert len(left) == 1 and load_checkpoint(path)["x"] == 0
    other = tmp_path / ".other.pt.tmp-1-0000"  # another target's temporary file is not touched
    other.write_bytes(b"")
    save_atomic({"x": 2}, path)
    assert temporaries(tmp_path, "c.pt") == [] and load_checkpoint(path)["x"] == 2 and other.exists()


def test_checkpoints_get_the_mode_a_plain_open_gives(tmp_path):
    with open(tmp_path / "plain", "wb"):
        pass
    save_atomic({"x": 1}, tmp_path / "c.pt")
    assert stat.S_IMODE(os.stat(tmp_path / "c.pt").st_mode) == stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)


@pytest.mark.skipif(not hasattr(os, "O_DIRECTORY"), reason="directories cannot be fsynced here")
def test_the_directory_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(a, b):
        events.append("replace")
        real_replace(a, b)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    save_atomic({"x": 1}, tmp_path / "c.pt")
    assert events == ["fsync file", "replace", "fsync dir"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_directory_that_refuses_files_is_found_before_training():
    """Permissions say yes for root in /proc, the file system says no: a probe file tells."""
    from pinnkit.checkpoint import unwritable_reason

    reason = unwritable_reason("/proc/pinnkit-test/c.pt")
    assert reason is not None and "files cannot be created in /proc" in reason
