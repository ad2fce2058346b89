"""The nbgrader pipeline: sources are well-formed, exercises/ is current, and autograding is honest.

For every assignment in solutions/: the source gets full marks, the untouched release gets 0
without crashing the grader, and every graded cell has an id and points. Notebooks are graded
by :func:`rnncourse.grading.grade_notebooks`, the route ``rnncourse grade`` grades students by.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from rnncourse.grading import grade_notebooks
from rnncourse.grading.assignments import (
    AssignmentError,
    assignment_names,
    graded_cells,
    make_course,
    read_source,
)
from rnncourse.grading.cells import grade_id
from rnncourse.grading.release import chapter_notebook_files, exercise_files

NAMES = assignment_names()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """One nbgrader course with every assignment released (as an instructor would have)."""
    return make_course(tmp_path_factory.mktemp("course") / "course", NAMES)


def test_every_chapter_has_an_assignment(repo_root):
    chapters = sorted(p.stem for p in (repo_root / "book" / "chapters").glob("[0-9][0-9]-*.md"))
    assert chapters, "the book has no chapters"
    missing = [c for c in chapters if c not in NAMES]
    assert not missing, f"chapters without a solutions/ assignment: {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_source_has_graded_exercises_with_ids_and_points(name):
    nb = read_source(name)  # raises AssignmentError listing every metadata problem
    cells = [c for c in graded_cells(nb) if c.kind == "tests"]
    assert 3 <= len(cells) <= 6, f"{name} has {len(cells)} graded test cells; the design asks for 3 to 6"
    for cell in graded_cells(nb):
        assert cell.grade_id and cell.points > 0
    hidden = [c for c in nb.cells if "### BEGIN HIDDEN TESTS" in c.source]
    assert len(hidden) == len(cells), f"{name}: every graded test cell needs hidden tests"
    written = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "markdown"]
    assert len(written) <= 2, f"{name}: at most two written questions graded by hand"
    for cell in written:  # an answer cell with the model answer and the grader's rubric (hidden from students)
        assert cell.metadata.nbgrader.get("solution") and "Rubric" in cell.source, cell.metadata.nbgrader


def test_generated_notebooks_are_up_to_date():
    expected = {**exercise_files(), **chapter_notebook_files()}
    stale = [str(p) for p, text in expected.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    assert not stale, f"generated notebooks are out of date; run `make exercises`: {stale}"


@pytest.mark.slow
def test_generation_is_deterministic():
    assert exercise_files(NAMES[:1]) == exercise_files(NAMES[:1])


@pytest.mark.parametrize("name", NAMES)
def test_release_contains_no_answer_and_no_hidden_test(name, repo_root):
    release = json.loads((repo_root / "exercises" / name / f"{name}.ipynb").read_text())
    text = "\n".join("".join(c["source"]) for c in release["cells"])
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert text.count("raise NotImplementedError()") >= len([c for c in graded_cells(read_source(name))
                                                             if c.kind == "tests"])
    assert all(not c.get("outputs") for c in release["cells"] if c["cell_type"] == "code")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_autograde_solution_full_marks_and_release_zero(name, course, repo_root):
    source = course.root / "source" / name / f"{name}.ipynb"
    release = repo_root / "exercises" / name / f"{name}.ipynb"
    scores = grade_notebooks(name, {"solution": source, "untouched": release})
    maximum = {c.grade_id: c.points for c in graded_cells(read_source(name)) if c.kind == "tests"}
    assert scores["solution"] == maximum, f"the solution of {name} does not get full marks: {scores['solution']}"
    assert set(scores["untouched"].values()) == {0.0}, f"the release of {name} earns points: {scores['untouched']}"


# --- the pipeline itself, on a small assignment made here ---------------------------------

DEMO = '''---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Demo

```{code-cell} ipython3
---
nbgrader: {grade: false, grade_id: setup, locked: true, schema_version: 3, solution: false}
---
import numpy as np
from rnncourse.grading.checks import check_close
```

### Exercise 1: double (2 points)

```{code-cell} ipython3
---
nbgrader: {grade: false, grade_id: ex1-answer, locked: false, schema_version: 3, solution: true}
---
def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
```

```{code-cell} ipython3
---
nbgrader: {grade: true, grade_id: ex1-tests, locked: true, points: 2, schema_version: 3, solution: false}
---
check_close(double(np.ones(3)), 2 * np.ones(3), "double(ones(3))")
### BEGIN HIDDEN TESTS
check_close(double(np.arange(4.0)), 2 * np.arange(4.0), "double(arange(4))")
### END HIDDEN TESTS
```
'''


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    solutions = tmp_path_factory.mktemp("solutions")
    (solutions / "99-demo").mkdir()
    (solutions / "99-demo" / "99-demo.md").write_text(DEMO)
    course = make_course(tmp_path_factory.mktemp("demo") / "course", ["99-demo"], solutions)
    return solutions, course


def _notebook_with_answer(course, answer: str) -> nbformat.NotebookNode:
    nb = nbformat.read(course.release_path("99-demo"), as_version=4)
    for cell in nb.cells:
        if grade_id(cell) == "ex1-answer":
            cell.source = answer
    return nb


@pytest.mark.slow
def test_hidden_tests_are_restored_and_catch_a_hard_coded_answer(demo, tmp_path):
    solutions, course = demo
    hard_coded = _notebook_with_answer(course, "def double(x):\n    return np.full(3, 2.0)")
    honest = _notebook_with_answer(course, "def double(x):\n    return x + x")
    scores = grade_notebooks("99-demo", {"hard": hard_coded, "honest": honest}, solutions=solutions)
    assert scores == {"hard": {"ex1-tests": 0.0}, "honest": {"ex1-tests": 2.0}}


@pytest.mark.slow
def test_edited_test_cell_is_restored_from_the_source(demo, tmp_path):
    solutions, course = demo
    nb = _notebook_with_answer(course, "def double(x):\n    return None")
    for cell in nb.cells:
        if grade_id(cell) == "ex1-tests":
            cell.source = "pass"
    assert grade_notebooks("99-demo", {"cheat": nb}, solutions=solutions) == {"cheat": {"ex1-tests": 0.0}}


def test_metadata_problems_are_reported(tmp_path):
    bad = DEMO.replace("points: 2, ", "").replace("grade_id: setup", "grade_id: 'has space'")
    (tmp_path / "98-bad").mkdir()
    (tmp_path / "98-bad" / "98-bad.md").write_text(bad)
    with pytest.raises(AssignmentError) as err:
        read_source("98-bad", tmp_path)
    assert "has no points" in str(err.value) and "needs a grade_id" in str(err.value)


def test_release_ids_are_deterministic_and_valid(demo):
    _, course = demo
    nb = nbformat.read(course.release_path("99-demo"), as_version=4)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", c.id) for c in nb.cells)
