"""Run with ``pytest docs/course/exercises/test_exercise_2.py``: checks your exercise_2.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checks  # noqa: E402


def test_exercise_2():
    print(checks.run(2))
