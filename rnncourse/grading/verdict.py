"""A submission's grade status and the reason shown to the student and the instructor.

:func:`decide` reads an executed submission (:class:`~rnncourse.grading.outcomes.Run`) and its
scored tests; :func:`where` names a cell as a student finds it in the notebook.
"""

from __future__ import annotations

from rnncourse.grading.cells import heading_above
from rnncourse.grading.outcomes import Run, Status, TestResult, is_memory_error
from rnncourse.grading.sandbox import Limits, format_size

__all__ = ["decide", "where"]


def where(nb, index: int | None) -> str:
    """``code cell 3 (under “Exercise 1: ...”)``: a cell as a student finds it in the notebook."""
    if index is None:
        return "the notebook"
    number = sum(c.cell_type == "code" for c in nb.cells[: index + 1])
    heading = heading_above(nb.cells, index)
    return f"code cell {number}" + (f" (under “{heading}”)" if heading else "")


def _with_points(notes: list[str], tests: list[TestResult]) -> list[str]:
    """``ex2-tests (deleted)`` -> ``ex2-tests (deleted; Exercise 2: ..., 3 points at stake)``."""
    by_id = {t.grade_id: t for t in tests}
    named = []
    for note in notes:
        gid, _, what = note.partition(" (")
        test = by_id.get(gid)
        named.append(f"{gid} ({what.rstrip(')')}; {test.title}, {test.points:g} points at stake)" if test else note)
    return named


def decide(run: Run, tests: list[TestResult], notes: list[str], limits: Limits) -> tuple[Status, str]:
    """The status and reason of an executed submission; ``notes`` name the restored locked cells."""
    nb = run.nb
    lost = [t.title for t in tests if not t.ran]
    after = f"; the tests of {', '.join(dict.fromkeys(lost))} did not run" if lost else ""
    restored = f"locked cells restored from the source: {', '.join(_with_points(notes, tests))}" if notes else ""
    tampered = [t for t in tests if t.tampered]
    memory_cells = [i for i, c in run.cells.items() if c.status in (Status.ERROR, Status.TIMEOUT) and
                    is_memory_error(f"{c.ename}: {c.evalue}")]
    timeouts = [i for i, c in run.cells.items() if c.status == Status.TIMEOUT]
    if run.fate == Status.START_FAILED:
        status, reason = Status.ERROR, f"the grader could not run the notebook ({run.detail}); run grade again"
    elif tampered:
        first = tampered[0]
        what = first.tampered.split("; ")
        what = "; ".join(what[:3]) + (f"; and {len(what) - 3} more" if len(what) > 3 else "")
        status = Status.TAMPERED
        reason = f"the notebook changed the checking machinery ({what}); {first.title} and every later test score 0"
    elif run.fate == Status.EXITED or run.exits:
        at = run.exits[0] if run.exits else run.stopped_at
        how = "calls sys.exit()" if run.cells.get(at) and run.cells[at].ename == "SystemExit" else "ends the Python process"
        status, reason = Status.EXITED, f"the notebook {how} in {where(nb, at)}{after}"
    elif run.memory_exhausted:
        at = memory_cells[0] if memory_cells else run.stopped_at
        status = Status.MEMORY
        reason = f"the notebook ran out of its memory limit of {format_size(limits.memory)} in {where(nb, at)}{after}"
    elif run.fate == Status.DIED:
        status, reason = Status.KERNEL_DIED, f"the Python process died in {where(nb, run.stopped_at)}: {run.detail}{after}"
    elif run.fate == Status.TIMEOUT:
        status, reason = Status.TIMEOUT, f"{run.detail} (in {where(nb, run.stopped_at)}){after}"
    elif timeouts:
        status = Status.TIMEOUT
        reason = (f"{where(nb, timeouts[0])} ran longer than {limits.cell_timeout:g} s and was stopped; "
                  "the rest of the notebook was graded")
    elif notes:
        return Status.RESTORED, restored
    else:
        return Status.GRADED, ""
    return status, f"{reason}. Also: {restored}" if restored else reason
