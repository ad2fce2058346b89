"""``rnncourse check`` warns as ``rnncourse grade`` judges: the file name grade refuses, test
cells deleted or edited (put back as released, named with their points), answers not written
yet, errors located by cell and heading; and a crashed test reads as crashed, not "not run"."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from rnncourse.grading import cells
from rnncourse.grading.assignments import assignment_names, make_course, read_source, release_notebook
from rnncourse.grading.check import judge_file
from rnncourse.grading.manifest import KEY, unanswered_tests
from rnncourse.grading.outcomes import CellRun, Run, Status
from rnncourse.grading.scoring import score_tests

NAME = assignment_names()[0]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("course") / "course", [NAME])
    return nbformat.reads(release_notebook(course, NAME), as_version=4)


def _copy(nb):
    return nbformat.from_dict(json.loads(json.dumps(nb)))


def _test_index(nb, k=0):
    return cells.test_cells(nb)[k]


def test_release_carries_its_manifest(release):
    manifest = release.metadata[KEY]
    assert manifest["assignment"] == NAME
    tests = [e for e in manifest["locked"] if "points" in e]
    assert [e["grade_id"] for e in tests] == [cells.grade_id(release.cells[i]) for i in cells.test_cells(release)]
    assert "BEGIN HIDDEN TESTS" not in json.dumps(manifest)  # only what the student already has


def test_the_file_name_grade_refuses_is_named(release, tmp_path):
    _, warnings = judge_file(tmp_path / f"{NAME} (1).ipynb", release)
    assert any("wrong_filename" in w and f"{NAME}.ipynb" in w for w in warnings), warnings
    for fine in (f"{NAME}.ipynb", f"{NAME}-2.ipynb"):
        assert judge_file(tmp_path / fine, release)[1] == []


def test_deleted_and_edited_test_cells_are_put_back_with_their_points(release, tmp_path):
    first, second = _test_index(release, 0), _test_index(release, 1)
    title = cells.exercise_titles(release)[second]
    nb = _copy(release)
    nb.cells[first].source = "pass  # my own test"
    del nb.cells[second]
    restored, warnings = judge_file(tmp_path / f"{NAME}.ipynb", nb)
    text = "\n".join(warnings)
    assert f"{title}: its test cell was deleted" in text and "point" in title
    assert "its test cell was edited" in text
    assert [c.source for c in restored.cells if c.cell_type == "code"] == \
        [c.source for c in release.cells if c.cell_type == "code"]
    assert len(cells.test_cells(restored)) == len(cells.test_cells(release))


def test_untouched_answers_are_not_answered_yet(release):
    assert unanswered_tests(release, release.metadata[KEY]) == set(cells.test_cells(release))
    solved = read_source(NAME)
    assert unanswered_tests(solved, release.metadata[KEY]) == set()


def test_a_test_cell_that_crashed_says_so():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("assert x", metadata={"nbgrader": {"grade": True, "grade_id": "t1", "points": 1}}),
        nbformat.v4.new_code_cell("assert x", metadata={"nbgrader": {"grade": True, "grade_id": "t2", "points": 1}}),
    ])
    run = Run(nb, {0: CellRun(Status.OK), 1: CellRun(), 2: CellRun()}, fate=Status.DIED,
              detail="it was killed by SIGSEGV (a crash)", stopped_at=1)
    first, second = score_tests(run, guarded=False)
    assert first.message == "the Python process died while this test ran: it was killed by SIGSEGV (a crash)"
    assert second.message.startswith("the kernel stopped before this test ran")


@pytest.mark.slow
def test_check_prints_what_grade_would_say(release, tmp_path):
    nb = _copy(release)
    del nb.cells[_test_index(nb, 0)]
    broken = nbformat.v4.new_code_cell("def oops(:\n    pass")
    nb.cells.insert(_test_index(nb, 0), broken)
    path = tmp_path / f"{NAME} (1).ipynb"
    nbformat.write(nb, path)
    run = subprocess.run([sys.executable, "-m", "rnncourse", "check", str(path), "--cell-timeout", "60"],
                         capture_output=True, text=True, timeout=600)
    out = " ".join(run.stdout.split())  # the report wraps long lines
    assert run.returncode == 1, run.stdout + run.stderr
    assert "wrong_filename" in out and "its test cell was deleted" in out
    assert "not answered yet" in out and "FAILED" not in out  # nothing is answered: no hint applies yet
    heading = cells.heading_above(nb.cells, nb.cells.index(broken))
    assert f"(under “{heading}”): SyntaxError" in out, out
    assert ".py, line" not in out and "line 1 of the cell" in out


def test_grade_names_a_restored_test_cell_with_its_points():
    from rnncourse.grading.outcomes import TestResult
    from rnncourse.grading.sandbox import Limits
    from rnncourse.grading.verdict import decide

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
    run = Run(nb, {0: CellRun(Status.OK)})
    tests = [TestResult(0, "ex2-tests", "Exercise 2: both directions", 3.0, 3.0, True)]
    status, reason = decide(run, tests, ["ex2-tests (deleted)"], Limits())
    assert status == Status.RESTORED
    assert "ex2-tests (deleted; Exercise 2: both directions, 3 points at stake)" in reason
