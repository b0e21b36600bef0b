"""Normalise pinnkit's parameter sections before napoleon reads them (a build-time rewrite; sources unchanged).

pinnkit's docstrings list arguments in two styles under a ``Parameters`` or ``Arguments`` heading: numpydoc
(``name : type`` then an indented description) and a compact one (``name: description``, continuation lines
indented). Both are often followed, after a blank line, by unindented prose ("Returns ...", "Input (N, d)
...") that belongs to the docstring, not to the last argument. Napoleon would read every such line as another
parameter, so this hook turns each parameter section into a rubric and a definition list, ending it at the
first unindented line that is not an argument. Data objects without a doc comment of their own (their
``__doc__`` is their type's) get a one-line description of their value instead of the builtin type's help.
"""

from __future__ import annotations

import inspect
import re
import types

SECTIONS = {"parameters", "arguments", "args", "other parameters", "keyword arguments", "attributes"}
_NAMES = r"\*{0,2}[A-Za-z_]\w*(?:\s*,\s*\*{0,2}[A-Za-z_]\w*)*"
NUMPY_FIELD = re.compile(rf"^({_NAMES})(?:\s+:\s*(.*))?$")
COMPACT_FIELD = re.compile(rf"^({_NAMES}):\s+(.*)$")
_HEADER_AFTER = re.compile(r"^-{3,}$")


def _is_header(lines: list[str], i: int) -> bool:
    if i + 1 >= len(lines) or not lines[i].strip() or lines[i].startswith(" "):
        return False
    underline = lines[i + 1].strip()
    return bool(_HEADER_AFTER.match(underline)) and len(underline) >= len(lines[i].strip()) - 1


def _term(names: str, kind: str | None) -> str:
    term = ", ".join(f"``{n.strip()}``" for n in names.split(","))
    return f"{term} : {kind}" if kind else term


def rewrite(lines: list[str]) -> list[str]:
    """The docstring ``lines`` with every parameter section as a rubric and a definition list."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not (_is_header(lines, i) and lines[i].strip().lower() in SECTIONS):
            out.append(lines[i])
            i += 1
            continue
        title = lines[i].strip()
        title = "Parameters" if title.lower() in {"arguments", "args"} else title
        out += [f".. rubric:: {title}", ""]
        i += 2
        while i < len(lines):
            line = lines[i]
            if not line.strip() or line.startswith(" "):
                out.append(line if line.strip() else "")
                i += 1
                continue
            if _is_header(lines, i):
                break
            compact, numpy = COMPACT_FIELD.match(line), NUMPY_FIELD.match(line)
            if out and out[-1].strip():
                out.append("")
            if compact:
                out += [_term(compact.group(1), None), "    " + compact.group(2)]
            elif numpy:
                out.append(_term(numpy.group(1), numpy.group(2)))
                if not (i + 1 < len(lines) and lines[i + 1].startswith(" ")):
                    out.append("")
            else:
                break          # prose after the arguments
            i += 1
        if out and out[-1].strip():
            out.append("")
    return out


_BUILTIN_DOCS = {inspect.cleandoc(t.__doc__).splitlines()[0] for t in
                 (dict, tuple, list, set, frozenset, str, int, float, bool, types.MappingProxyType) if t.__doc__}


def process(app, what, name, obj, options, lines):  # noqa: ARG001 (Sphinx's signature)
    own_type_doc = inspect.cleandoc(type(obj).__doc__).splitlines()[0] if type(obj).__doc__ else None
    if what == "data" and (not lines or lines[0].strip() in _BUILTIN_DOCS or lines[0].strip() == own_type_doc):
        lines[:] = [_describe(obj)]
        return
    lines[:] = rewrite(list(lines))


def _describe(obj: object) -> str:
    if isinstance(obj, (dict, types.MappingProxyType)):
        keys = ", ".join(f"``{k!r}``" for k in list(obj)[:30])
        return f"A ``dict`` with the keys {keys}." if obj else "An empty ``dict``."
    if isinstance(obj, (tuple, list, frozenset, set)):
        items = ", ".join(f"``{k!r}``" for k in list(obj)[:30])
        return f"A ``{type(obj).__name__}``: {items}."
    return f"A ``{type(obj).__name__}``: ``{obj!r}``."


def setup(app):
    app.connect("autodoc-process-docstring", process, priority=100)     # before napoleon (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
