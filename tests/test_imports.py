"""pinnkit's modules import each other without cycles (except the documented ones).

Every module of ``pinnkit/`` is parsed with :mod:`ast`; every import in it, at module level or inside functions
and methods, is an edge to the pinnkit module it names, relative imports resolved against the importing module's
package. ``from package import name`` is an edge to ``package.name`` where that is a module, else to the package
itself, so a module importing its package's ``__init__`` depends on everything the package re-exports, as it does
at import time. Imports under ``if TYPE_CHECKING:`` are left out: they never run, they only name types.

Cycles are looked for as strongly connected components of the graph less the edges allowed below.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import pinnkit

ROOT = Path(pinnkit.__file__).parent

#: Edges that close cycles by design, each ``(importer, imported): why``. A geometry's operators build geometries
#: defined in modules that import ``geometry.py`` (their classes derive from ``Geometry``), so ``geometry.py``
#: imports them lazily inside the operator methods: ``a | b``, ``a & b``, ``a - b`` build ``csg`` objects and
#: ``a * TimeDomain(t0, t1)`` a ``SpaceTimeDomain`` (``time_domain -> hypercube -> geometry``). Without these
#: edges the geometry package has no cycle.
ALLOWED = {
    ("pinnkit.geometry.geometry", "pinnkit.geometry.csg"): "CSG operators |, &, - in Geometry",
    ("pinnkit.geometry.geometry", "pinnkit.geometry.space_time"): "space-time product geometry * TimeDomain",
    ("pinnkit.geometry.geometry", "pinnkit.geometry.time_domain"): "space-time product geometry * TimeDomain",
}

#: Temporary entries: edges closing cycles through files that are being rewritten elsewhere and could not be
#: edited on this branch. The main engineer removes each after merging those rewrites.
TEMPORARY: dict[tuple[str, str], str] = {}


#: pinnkit's packages and top-level modules from the lowest layer up. A module may import from its own package and
#: from packages of lower layers, never from a higher layer or from another package of its own layer.
LAYERS = (
    ("checks", "errors", "ownership", "metrics"),  # argument checks, error types: no pinnkit imports
    ("checkpoint",),  # atomic files
    ("geometry", "functions", "optim", "derivatives"),  # domains, function spaces, multi-loss optimizers, engines
    ("nets",),  # networks and their jets (the protocol of pinnkit.derivatives)
    ("pde",),  # problems, conditions, equations, references
    ("weighting",),  # loss weights from residuals
    ("sampling",),  # collocation points
    ("callbacks",),
    ("distributed",),  # data-parallel ranks: collectives, sharding of batches, gradient reduction
    ("training",),  # the loop and its objectives
    ("testing",),  # property checks shipped as API: residuals, conditions, engines, convergence of trainers
    ("dynamics", "model"),  # neural ODE / SDE fits on the loop; loading saved models
    ("plotting", "cli"),  # what example scripts use
    ("pinnkit",),  # the package's namespace
)


def module_names() -> dict[str, Path]:
    """Dotted module name -> file, for every module of pinnkit (packages by their ``__init__``)."""
    names = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _is_type_checking(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every ``import`` / ``from ... import`` in ``tree``, at any depth, except in ``if TYPE_CHECKING:`` bodies."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif _is_type_checking(node):
            todo.extend(node.orelse)
        else:
            todo.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: Path, modules: set[str]) -> set[str]:
    """The pinnkit modules that module ``name`` (file ``path``) imports anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _import_nodes(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            targets = [f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                       for alias in node.names]
        for target in targets:
            while target and target not in modules:  # "import pinnkit.nets.mlp as m" or a name in a module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    files = module_names()
    return {name: imports_of(name, path, set(files)) for name, path in files.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the strongly connected components of more than one module (the cycles)."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def a_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """One import cycle through the component's first module, for the message."""
    start = min(component)
    path, seen = [start], {start}
    while True:
        following = sorted(w for w in graph[path[-1]] if w in component)
        if start in following and len(path) > 1:
            return path + [start]
        step = next((w for w in following if w not in seen), None)
        if step is None:
            return path + [following[0]] if following else path
        path.append(step)
        seen.add(step)


def test_the_graph_sees_relative_lazy_and_absolute_imports():
    graph = import_graph()
    assert "pinnkit.nets.registry" in graph["pinnkit.nets.mlp"]  # from .registry import ... (module level)
    assert "pinnkit.geometry.csg" in graph["pinnkit.geometry.geometry"]  # from .csg import ... (in a method)
    assert "pinnkit.checks" in graph["pinnkit.pde.references.diffusion_reaction"]  # from ...checks import (level 3)
    assert "pinnkit.geometry" in graph["pinnkit.sampling.sampler"]  # from ..geometry import Geometry: the package
    assert "pinnkit.training" not in graph["pinnkit.callbacks"]  # only under TYPE_CHECKING
    assert "pinnkit.nets" in graph["pinnkit"]  # the package re-exports its subpackages


def test_checks_is_the_lowest_layer():
    """pinnkit.checks imports nothing of pinnkit, and outside it only the standard library, numpy and torch."""
    assert import_graph()["pinnkit.checks"] == set()
    tree = ast.parse((ROOT / "checks.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and node.level == 0 and node.module}
    assert imported - {"numpy", "torch", "__future__"} <= set(sys.stdlib_module_names), imported
    assert not any(isinstance(node, ast.ImportFrom) and node.level for node in ast.walk(tree))


def test_registry_imports_no_net():
    assert import_graph()["pinnkit.nets.registry"] == set()


def layer_of(module: str) -> tuple[str, int]:
    """``(package, layer index)`` of a pinnkit module: ``pinnkit.nets.mlp`` is in package ``nets``."""
    package = module.split(".")[1] if "." in module else "pinnkit"
    for index, layer in enumerate(LAYERS):
        if package in layer:
            return package, index
    raise AssertionError(f"{package} (of {module}) is in no layer of LAYERS: place it there")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """The edges of ``graph`` that go from a package to another of the same or a higher layer."""
    upward = []
    for importer, imported in graph.items():
        package, layer = layer_of(importer)
        for target in imported:
            other, other_layer = layer_of(target)
            if other != package and other_layer >= layer:
                upward.append(f"{importer} -> {target} ({package} is in layer {layer}, {other} in {other_layer})")
    return sorted(upward)


def test_no_import_from_a_higher_layer():
    upward = upward_imports(import_graph())
    assert not upward, "imports that go up (or sideways) the layers:\n" + "\n".join(upward)


def test_the_layer_check_sees_upward_and_sideways_imports():
    graph = {"pinnkit.nets.mlp": {"pinnkit.training.loop", "pinnkit.nets.registry", "pinnkit.checks"},
             "pinnkit.sampling.sampler": {"pinnkit.weighting"}, "pinnkit.geometry.csg": {"pinnkit.optim"}}
    found = upward_imports(graph)
    assert len(found) == 2 and found[0].startswith("pinnkit.geometry.csg -> pinnkit.optim")  # sideways
    assert found[1].startswith("pinnkit.nets.mlp -> pinnkit.training.loop")  # upward
    with pytest.raises(AssertionError, match="is in no layer"):
        layer_of("pinnkit.unplaced.module")


def test_no_import_cycles():
    graph = import_graph()
    stale = sorted(edge for edge in {**ALLOWED, **TEMPORARY} if edge[1] not in graph.get(edge[0], set()))
    assert not stale, f"allowed edges that no longer exist (remove them from ALLOWED / TEMPORARY): {stale}"
    pruned = {v: {w for w in ws if (v, w) not in ALLOWED and (v, w) not in TEMPORARY} for v, ws in graph.items()}
    cycles = strongly_connected(pruned)
    for c in cycles:
        print("import cycle:", " -> ".join(a_cycle(pruned, c)), f"(modules in the cycle: {sorted(c)})")
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(a_cycle(pruned, c)) for c in cycles)


def test_the_allowed_edges_do_close_cycles():
    """Each allowed edge is there because the graph has a cycle through it; an edge that closes none is stale."""
    graph = import_graph()
    components = strongly_connected(graph)
    for importer, imported in {**ALLOWED, **TEMPORARY}:
        assert any({importer, imported} <= c for c in components), (importer, imported)


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert strongly_connected(graph) == [{"a", "b", "c"}]
    assert a_cycle(graph, {"a", "b", "c"}) == ["a", "b", "c", "a"]
