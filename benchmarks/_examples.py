"""What the benchmarks that run bundled examples share: loading an example as a module, and writing a report."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def load_example(name: str) -> ModuleType:
    """``examples/<name>.py`` as a module (its functions and constants, without running its ``main``).

    The module is registered in ``sys.modules`` (as ``<name>_example``), as an import would: torch.compile
    looks a traced function's module up by name, and fails on one that is not there."""
    module_name = f"{name}_example"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def write_report(path: str | None, report: dict[str, Any]) -> dict[str, Any]:
    """``report`` written as indented JSON to ``path`` (nothing without one); returns ``report``."""
    if path:
        with open(path, "w") as fh:
            json.dump(report, fh, indent=1)
    return report
