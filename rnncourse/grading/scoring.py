"""Scoring an executed notebook: each test cell passes or fails as a whole.

A test passes when its cell ran to its end without an error *and* the guard
(:mod:`rnncourse.grading.guard`) reported ``ok`` before and after it. Tampering found in one test
cell gives 0 to it and to every later test cell. A failing test's message is the first lines of
its error, and the executed notebook gets a ``GradingError`` output where the cell had none.
"""

from __future__ import annotations

import re

import nbformat

from rnncourse.grading.cells import exercise_titles, nbgrader, test_cells
from rnncourse.grading.outcomes import CellRun, Run, Status, TestResult

__all__ = ["score_tests"]


def _first_lines(text: str, n: int = 6) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text or "").strip()
    lines = text.splitlines()
    return "\n".join(lines[:n]) + ("\n..." if len(lines) > n else "")


def _failure(cell_run: CellRun) -> str:
    if cell_run.ename == "NotImplementedError" and not cell_run.evalue:
        return "NotImplementedError: the answer is not written yet (it still raises NotImplementedError())."
    return _first_lines(f"{cell_run.ename}: {cell_run.evalue}" if cell_run.evalue else cell_run.ename)


def _stopped_here(run: Run) -> str:
    """Why a test that was running when the run ended scores 0 (it did not stop *before* it)."""
    how = {Status.DIED: "the Python process died while this test ran",
           Status.TIMEOUT: "the notebook was stopped while this test ran",
           Status.EXITED: "the notebook ended Python while this test ran"}.get(run.fate, "this test did not finish")
    return f"{how}: {run.detail}" if run.detail else how


def score_tests(run: Run, guarded: bool = True) -> list[TestResult]:
    """Score every test cell of ``run`` and mark failures in the executed notebook's outputs.

    ``guarded``: the guard's two ``ok`` lines are required (the grader, and ``check``, run every
    test cell with them).
    """
    nb, titles = run.nb, exercise_titles(run.nb)
    results, tampered_since = [], ""
    not_run_reason = {Status.TIMEOUT: "the notebook was stopped before this test ran: " + run.detail,
                      Status.DIED: "the kernel stopped before this test ran: " + run.detail,
                      Status.EXITED: "the notebook ended Python before this test ran: " + run.detail,
                      Status.START_FAILED: run.detail}.get(run.fate, "this test did not run")
    for i in test_cells(nb):
        cell, meta, cell_run = nb.cells[i], nbgrader(nb.cells[i]), run.cells[i]
        points = float(meta.get("points", 0))
        result = TestResult(i, meta.get("grade_id", f"cell-{i}"), titles[i], points, 0.0, False)
        found = [detail or "the checking functions were changed" for _, state, detail in cell_run.guard_lines
                 if state == "tampered"]
        stages = {stage for stage, state, _ in cell_run.guard_lines if state == "ok"}
        if cell_run.status == Status.NOT_RUN and i == run.stopped_at:
            result.message, result.ran = _stopped_here(run), False
        elif cell_run.status == Status.NOT_RUN:
            result.message, result.ran = not_run_reason, False
        elif cell_run.status == Status.TIMEOUT:
            result.message = "the test ran longer than the time limit of a cell and was stopped"
        elif found or tampered_since:
            result.tampered = "; ".join(found) or tampered_since
            result.message = f"the checking machinery was tampered with: {result.tampered}"
            tampered_since = tampered_since or result.tampered
        elif cell_run.status == Status.ERROR:
            result.message = _failure(cell_run)
        elif guarded and stages != {"before", "after"}:
            result.tampered = "the test's result was hidden from the grader (its checks did not report back)"
            result.message = result.tampered
            tampered_since = result.tampered
        else:
            result.passed, result.score = True, points
        if not result.passed and not any(o.output_type == "error" for o in cell.outputs):
            cell.outputs.append(nbformat.v4.new_output("error", ename="GradingError", evalue=result.message,
                                                       traceback=[f"GradingError: {result.message}"]))
        results.append(result)
    return results
