"""Grading a class with several workers: nobody ends in ``error`` by chance, and an ``error``
always says why (console line, ``grades.csv``, a log file with the traceback).

CPython 3.11 cannot build ``ast`` objects in two threads at once (python/cpython#106905): a
grader that parsed the locked cells in its worker threads failed students at random with
``SystemError: AST constructor recursion depth mismatch``. One parse rarely meets another, so
the test makes the meeting certain: while the class is graded, ``ast.parse`` raises that error
whenever a grading thread calls it.
"""

from __future__ import annotations

import ast
import csv
import threading
from pathlib import Path

import nbformat
import pytest

from rnncourse.grading import grade_class, grade_notebooks
from rnncourse.grading.grade import GradingError
from rnncourse.grading.assignments import assignment_names, graded_cells, make_course, read_source
from rnncourse.grading.sandbox import Limits, sandbox_problem

NAME = assignment_names()[0]
LIMITS = Limits(cell_timeout=30, timeout=120, memory=None)
SANDBOXED = sandbox_problem() is None  # the class is the course's own notebooks: safe either way


def _class(root: Path, students: int) -> dict[str, float]:
    """``students`` submissions (the release, every fourth one the solution); their scores."""
    course = make_course(root / "release-course", [NAME])
    release = course.release_path(NAME).read_bytes()
    source = read_source(NAME)
    total = sum(c.points for c in graded_cells(source) if c.kind == "tests")
    expected = {}
    for k in range(students):
        folder = root / "class" / f"s{k:02d}"
        folder.mkdir(parents=True)
        solution = k % 4 == 0
        (folder / f"{NAME}.ipynb").write_bytes(nbformat.writes(source).encode() if solution else release)
        expected[folder.name] = total if solution else 0.0
    return expected


def _rows(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


@pytest.mark.slow
def test_many_workers_grade_a_class_without_errors(tmp_path, monkeypatch):
    real_parse = ast.parse

    def parse(*args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            raise SystemError("AST constructor recursion depth mismatch (before=27, after=23)")
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(ast, "parse", parse)
    expected = _class(tmp_path, 8)
    lines: list[str] = []
    summary = grade_class(NAME, tmp_path / "class", tmp_path / "out", workers=4, limits=LIMITS,
                          sandboxed=SANDBOXED, echo=lines.append)
    statuses = {r["student"]: (r["status"], r["reason"]) for r in summary["results"]}
    assert not [s for s, (status, _) in statuses.items() if status == "error"], "\n".join(lines)
    rows = _rows(tmp_path / "out")
    assert {s: float(r["score"]) for s, r in rows.items()} == expected, statuses


@pytest.mark.slow
def test_a_grader_failure_shows_its_reason_everywhere(tmp_path, monkeypatch):
    import rnncourse.grading.grade as grade_module

    def broken(*args, **kwargs):
        raise RuntimeError("the kernel manager fell over")

    monkeypatch.setattr(grade_module, "run_notebook", broken)
    _class(tmp_path, 2)
    lines: list[str] = []
    summary = grade_class(NAME, tmp_path / "class", tmp_path / "out", workers=2, limits=LIMITS,
                          sandboxed=SANDBOXED, echo=lines.append)
    reason = "the grader failed: RuntimeError: the kernel manager fell over"
    assert [r["status"] for r in summary["results"]] == ["error", "error"]
    assert all(r["reason"] == reason for r in summary["results"])
    console = [line for line in lines if " error " in line]
    assert len(console) == 2 and all(reason in line for line in console), lines
    rows = _rows(tmp_path / "out")
    assert [(r["status"], r["reason"]) for r in rows.values()] == [("error", reason)] * 2
    log = (tmp_path / "out" / "errors.log").read_text()
    assert log.count("Traceback (most recent call last)") == 2 and "fell over" in log
    assert any("errors.log" in line for line in lines), lines
    with pytest.raises(GradingError, match="s00: the grader failed: RuntimeError: the kernel manager fell over"):
        grade_notebooks(NAME, {"s00": tmp_path / "class" / "s00" / f"{NAME}.ipynb"}, limits=LIMITS,
                        sandboxed=SANDBOXED)
