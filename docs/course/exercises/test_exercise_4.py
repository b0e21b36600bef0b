"""Run with ``pytest docs/course/exercises/test_exercise_4.py``: checks your exercise_4.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checks  # noqa: E402


def test_exercise_4():
    print(checks.run(4))
