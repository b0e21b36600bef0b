"""Write the API reference pages from the ``__all__`` lists of pinnkit and its subpackages.

Run by ``conf.py`` at every build. Each package gets a page ``api/<package>.rst``: its module docstring, then an
autosummary table of every name in its ``__all__`` with one generated page per name (``api/generated/``).
A name is documented once, at the package that defines it; the top-level :mod:`pinnkit` page links re-exported
names to that place. Modules listed in an ``__all__`` (``pinnkit.pde.equations``, ``pinnkit.metrics``, ...) get
a page of their own with the public functions and classes they define.
"""

from __future__ import annotations

import importlib
import inspect
import types
from pathlib import Path

#: Packages whose ``__all__`` is documented, in the order of the reference's table of contents.
PACKAGES = (
    "pinnkit", "pinnkit.geometry", "pinnkit.pde", "pinnkit.pde.references", "pinnkit.derivatives", "pinnkit.nets",
    "pinnkit.sampling", "pinnkit.weighting", "pinnkit.training", "pinnkit.optim", "pinnkit.functions",
    "pinnkit.dynamics", "pinnkit.distributed", "pinnkit.testing", "pinnkit.cli",
)
#: Modules without an ``__all__`` that pinnkit exports: their public names are those they define.
MODULES = ("pinnkit.callbacks", "pinnkit.checks", "pinnkit.metrics", "pinnkit.pde.equations")


def public_names(module: types.ModuleType) -> list[str]:
    """``__all__`` of ``module``, or the public classes and functions it defines."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return sorted(n for n, obj in vars(module).items() if not n.startswith("_")
                  and (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ == module.__name__)


def home(obj: object, package: str) -> str | None:
    """The documented package or module an object re-exported by ``package`` is documented in, if another."""
    for candidate in PACKAGES[1:] + MODULES:
        if candidate == package:
            continue
        mod = importlib.import_module(candidate)
        for name in public_names(mod):
            if getattr(mod, name, None) is obj and not isinstance(obj, (str, int, float, tuple, dict, frozenset)):
                return candidate
    return None


def page(name: str, title_note: str = "") -> str:
    module = importlib.import_module(name)
    names = public_names(module)
    lines = [name, "=" * len(name), "", f".. automodule:: {name}", "   :no-members:", "",
             f".. currentmodule:: {name}", ""]
    own, modules, elsewhere = [], [], []
    for n in names:
        obj = getattr(module, n)
        if isinstance(obj, types.ModuleType):
            modules.append((n, obj))
        elif name == "pinnkit" and (where := home(obj, name)) is not None:
            elsewhere.append((n, where))
        else:
            own.append(n)
    if own:
        lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
        lines += [f"   {n}" for n in own] + [""]
    if elsewhere:
        lines += ["Re-exported names", "-----------------", "",
                  "These names are importable from ``pinnkit`` directly and documented where they are defined:", ""]
        lines += [f"* ``pinnkit.{n}``: :obj:`{where}.{n}`" for n, where in elsewhere] + [""]
    if modules:
        lines += ["Modules", "-------", ""]
        lines += [f"* :mod:`{obj.__name__}` (``{name}.{n}``)" for n, obj in modules] + [""]
    return "\n".join(lines)


def write_api(out: Path) -> None:
    """(Re)write ``out/index.rst`` and one page per package and module."""
    out.mkdir(parents=True, exist_ok=True)
    entries = PACKAGES + MODULES
    index = ["API reference", "=============", "",
             "Every public name, generated from the ``__all__`` lists of ``pinnkit`` and its subpackages (and, for",
             "the few modules without one, the classes and functions they define). Shapes follow the package's",
             "conventions: points are ``(N, d)`` tensors, network outputs ``(N, k)``, operator outputs ``(M, N, k)``.",
             "", ".. toctree::", "   :maxdepth: 1", ""] + [f"   {e}" for e in entries] + [""]
    _write(out / "index.rst", "\n".join(index))
    for e in entries:
        _write(out / f"{e}.rst", page(e))


def _write(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:     # unchanged pages keep their time stamps
        path.write_text(text)
