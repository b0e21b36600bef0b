"""The course pack (docs/course): every exercise's check passes on the reference solution and fails, saying
that the exercise is not finished, on the unfilled starter file."""

import importlib.util
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[1] / "docs" / "course"


def _checks():
    spec = importlib.util.spec_from_file_location("course_checks", COURSE / "exercises" / "checks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checks = _checks()


@pytest.mark.parametrize("n", checks.EXERCISES)
def test_reference_solution_passes(n):
    report = checks.run(n, COURSE / "solutions" / f"exercise_{n}.py")
    assert isinstance(report, str) and report


@pytest.mark.parametrize("n", checks.EXERCISES)
def test_unfilled_starter_fails(n):
    with pytest.raises(AssertionError, match=f"exercise {n} is not finished: TODO"):
        checks.run(n, COURSE / "exercises" / f"exercise_{n}.py")


def test_every_exercise_has_a_page_a_starter_and_a_solution():
    for n in checks.EXERCISES:
        for path in (COURSE / f"exercise_{n}.rst", COURSE / "exercises" / f"exercise_{n}.py",
                     COURSE / "exercises" / f"test_exercise_{n}.py", COURSE / "solutions" / f"exercise_{n}.py"):
            assert path.is_file(), path


def test_a_wrong_answer_is_caught(tmp_path):
    """A residual with the wrong sign passes nothing: the check says which term fails."""
    wrong = (COURSE / "solutions" / "exercise_1.py").read_text().replace("f.u_t - KAPPA", "f.u_t + KAPPA")
    path = tmp_path / "exercise_1.py"
    path.write_text(wrong)
    with pytest.raises(AssertionError, match="pde"):
        checks.run(1, path)
