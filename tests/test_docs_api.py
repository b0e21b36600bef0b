"""The public API is documented: every name in the ``__all__`` of pinnkit and of each of its subpackages has a
docstring (a doc comment ``#:`` for data), and the docstring of every public class or function that takes or
returns tensors names their shapes (``(N, d)``-style or the word "shape").

"Takes or returns tensors" is read from the annotations: a function whose signature mentions ``Tensor``, or a
class whose ``__init__``, ``forward`` or ``__call__`` does. A class's text is its docstring with those methods'.
The exceptions are listed below with their reasons; the documentation task may not edit pinnkit/training or
pinnkit/distributed, so their gaps are recorded here instead of fixed.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import re
import types

import pytest
from sphinx.pycode import ModuleAnalyzer

import pinnkit

#: Public names without a shape in their docstring, each with the reason (none may lack a docstring). All are in
#: pinnkit/distributed or pinnkit/training, whose docstrings the documentation task may not edit.
SHAPE_EXCEPTIONS: dict[str, str] = {
    "pinnkit.distributed.broadcast_tensors": "in place on any tensors; should say 'each tensor keeps its shape'",
    "pinnkit.distributed.global_means": "scalar partial sums and counts; should say the terms are 0-d tensors",
    "pinnkit.distributed.shard_batch": "a Batch in and out; should give the index tensors' shape (n_rank,)",
    "pinnkit.distributed.square_sum": "should give the residual's shape (N, m) or (M, N, m) and a 0-d sum",
    "pinnkit.distributed.sum_tensors": "in place on any tensors; should say 'each tensor keeps its shape'",
    "pinnkit.distributed.sum_values": "says '1-D tensor'; should write its shape (n,)",
    "pinnkit.training.Evaluation": "terms are scalar losses; should say they are 0-d tensors",
}

#: A shape: the word, or a parenthesised list with a comma of sizes such as ``(N, d)``, ``(N,)``, ``(..., k)``,
#: ``(sizes[rank], ...)``.
SHAPE = re.compile(r"shape|\(\s*(?:\.\.\.|…|[A-Za-z_][\w+*\[\]]*|\d+)\s*,"
                   r"(?:\s*(?:\.\.\.|…|[A-Za-z_][\w+*\[\]]*|\d+)\s*,?)*\s*\)", re.IGNORECASE)


def packages() -> list[types.ModuleType]:
    found = [pinnkit]
    for info in pkgutil.walk_packages(pinnkit.__path__, "pinnkit."):
        if info.ispkg:
            found.append(importlib.import_module(info.name))
    return found


def public_names() -> list[tuple[str, str]]:
    return [(package.__name__, name) for package in packages() for name in package.__all__]


def _modules_under(package: types.ModuleType) -> list[str]:
    names = [package.__name__]
    if hasattr(package, "__path__"):
        names += [info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
    return names


_DOC_COMMENTS: dict[str, set[str]] = {}


def documented_data(package: types.ModuleType) -> set[str]:
    """Module-level names with a doc comment (``#:`` or a string after the assignment) in ``package``'s modules."""
    if package.__name__ not in _DOC_COMMENTS:
        names: set[str] = set()
        for module_name in _modules_under(package):
            analyzer = ModuleAnalyzer.for_module(module_name)
            names |= {name for (scope, name), lines in analyzer.find_attr_docs().items()
                      if scope == "" and any(line.strip() for line in lines)}
        _DOC_COMMENTS[package.__name__] = names
    return _DOC_COMMENTS[package.__name__]


def own_doc(obj: object) -> str:
    """The object's own docstring (a class's, not one inherited from a base)."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def _mentions_tensor(function) -> bool:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return False
    annotations = [p.annotation for p in signature.parameters.values()] + [signature.return_annotation]
    return any("Tensor" in (a if isinstance(a, str) else getattr(a, "__name__", str(a))) for a in annotations
               if a is not inspect.Parameter.empty)


def tensor_text(obj: object) -> str | None:
    """The text that must name shapes when ``obj`` takes or returns tensors, else None."""
    if inspect.isclass(obj):
        methods = [obj.__dict__[m] for m in ("__init__", "forward", "__call__") if m in obj.__dict__]
        if not any(_mentions_tensor(m) for m in methods if callable(m)):
            return None
        return "\n".join([own_doc(obj)] + [own_doc(m) for m in methods])
    if callable(obj) and _mentions_tensor(obj):
        return own_doc(obj)
    return None


def test_every_subpackage_has_an_all():
    for package in packages():
        assert isinstance(getattr(package, "__all__", None), (list, tuple)), package.__name__


@pytest.mark.parametrize(("package", "name"), public_names())
def test_public_name_has_a_docstring(package, name):
    module = importlib.import_module(package)
    obj = getattr(module, name)
    if isinstance(obj, types.ModuleType) or inspect.isclass(obj) or inspect.isfunction(obj) \
            or inspect.isbuiltin(obj):
        assert own_doc(obj), f"{package}.{name} has no docstring"
    else:
        assert name in documented_data(module), f"{package}.{name} (a {type(obj).__name__}) has no doc comment (#:)"


@pytest.mark.parametrize(("package", "name"), public_names())
def test_tensor_docstrings_name_shapes(package, name):
    obj = getattr(importlib.import_module(package), name)
    text = tensor_text(obj)
    key = f"{package}.{name}"
    if text is None:
        return
    if key in SHAPE_EXCEPTIONS:
        assert not SHAPE.search(text), f"{key} names shapes now: remove it from SHAPE_EXCEPTIONS"
        return
    assert SHAPE.search(text), f"{key} takes or returns tensors but its docstring names no shape"


def test_exceptions_are_public_names():
    names = {f"{p}.{n}" for p, n in public_names()}
    assert set(SHAPE_EXCEPTIONS) <= names


def test_the_api_reference_covers_every_package():
    """docs/_ext/apigen.py writes one reference page per package; a new subpackage must be added to it."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "_ext" / "apigen.py"
    spec = importlib.util.spec_from_file_location("apigen", path)
    apigen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(apigen)
    assert {p.__name__ for p in packages()} <= set(apigen.PACKAGES)
    modules = {obj.__name__ for obj in vars(pinnkit).values() if isinstance(obj, types.ModuleType)
               and obj.__name__ in {f"pinnkit.{n}" for n in pinnkit.__all__}}
    assert modules <= set(apigen.PACKAGES) | set(apigen.MODULES)
