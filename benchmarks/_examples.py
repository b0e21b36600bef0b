"""What the benchmarks that run bundled examples share: loading an example as a module, and writing a report."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def load_example(name: str) -> ModuleType:
    """``examples/<name>.py`` as a module (its functions and constants, without running its ``main``)."""
    spec = importlib.util.spec_from_file_location(f"{name}_example", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_report(path: str | None, report: dict[str, Any]) -> dict[str, Any]:
    """``report`` written as indented JSON to ``path`` (nothing without one); returns ``report``."""
    if path:
        with open(path, "w") as fh:
            json.dump(report, fh, indent=1)
    return report
