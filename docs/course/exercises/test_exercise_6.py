"""Run with ``pytest docs/course/exercises/test_exercise_6.py``: checks your exercise_6.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checks  # noqa: E402


def test_exercise_6():
    print(checks.run(6))
