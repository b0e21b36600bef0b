"""Check a course exercise: ``python docs/course/exercises/check.py N [FILE]``.

FILE defaults to ``exercise_N.py`` next to this script (the starter file you edit). Prints ``exercise N: OK``
and what was checked, or what is wrong.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checks  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exercise", type=int, choices=checks.EXERCISES)
    parser.add_argument("file", nargs="?", default=None, help="your solution (default: exercise_N.py here)")
    args = parser.parse_args()
    start = time.perf_counter()
    try:
        report = checks.run(args.exercise, args.file)
    except AssertionError as error:
        print(f"exercise {args.exercise}: NOT YET\n{error}")
        return 1
    print(f"exercise {args.exercise}: OK ({time.perf_counter() - start:.1f} s)\n{report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
