"""The records every grading step shares, below all of them: outcomes and what a run produced.

:class:`Status` is the one vocabulary of outcomes, of a cell, of a notebook's run and of a
submission's grade; it is a ``str`` enumeration, so results files and ``grades.csv`` hold its
plain values (``"graded"``, ``"timeout"``, ...). :class:`CellRun` and :class:`Run` are what
:mod:`rnncourse.grading.runner` returns; :class:`TestResult` is what
:mod:`rnncourse.grading.scoring` makes of it; :mod:`rnncourse.grading.verdict` turns both into a
grade. This module imports nothing else of the grader, so none of those import one another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

import nbformat

__all__ = ["MEMORY_ERRORS", "NOT_EXECUTED", "CellRun", "Run", "Status", "TestResult", "is_memory_error"]


class Status(StrEnum):
    """Outcomes. A cell: ``OK``, ``ERROR``, ``TIMEOUT``, ``NOT_RUN``. A notebook's run:
    ``COMPLETED``, ``TIMEOUT``, ``EXITED``, ``DIED``, ``START_FAILED``, ``CANCELLED``. A
    submission's grade: ``GRADED``, ``RESTORED``, ``TIMEOUT``, ``MEMORY``, ``KERNEL_DIED``,
    ``EXITED``, ``TAMPERED``, ``ERROR`` (the grader failed) and the five of :data:`NOT_EXECUTED`."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    NOT_RUN = "not_run"
    COMPLETED = "completed"
    EXITED = "exited"
    DIED = "died"
    START_FAILED = "start_failed"
    CANCELLED = "cancelled"
    GRADED = "graded"
    RESTORED = "restored"
    MEMORY = "memory"
    KERNEL_DIED = "kernel_died"
    TAMPERED = "tampered"
    MISSING = "missing"
    WRONG_FILENAME = "wrong_filename"
    EMPTY = "empty"
    INVALID_JSON = "invalid_json"
    INVALID_NOTEBOOK = "invalid_notebook"


# submissions that were never executed: nothing to grade (see rnncourse.grading.submissions)
NOT_EXECUTED = frozenset({Status.MISSING, Status.WRONG_FILENAME, Status.EMPTY, Status.INVALID_JSON,
                          Status.INVALID_NOTEBOOK})

MEMORY_ERRORS = re.compile(r"MemoryError|OutOfMemoryError|can't allocate memory|Cannot allocate memory|"
                           r"not enough memory|std::bad_alloc|Unable to allocate", re.I)


def is_memory_error(text: str) -> bool:
    """Whether an error message (``"MemoryError: ..."``, a kernel's last words) is running out of memory."""
    return bool(MEMORY_ERRORS.search(text))


@dataclass
class CellRun:
    """What happened to one code cell."""

    status: Status = Status.NOT_RUN  # OK | ERROR | TIMEOUT | NOT_RUN
    ename: str = ""
    evalue: str = ""
    exit_requested: bool = False
    guard_lines: list[tuple[str, str, str]] = field(default_factory=list)  # (stage, state, detail)


@dataclass
class Run:
    """An executed notebook: ``nb`` has the outputs; ``cells[i]`` is the fate of cell ``i``."""

    nb: nbformat.NotebookNode
    cells: dict[int, CellRun]
    fate: Status = Status.COMPLETED  # COMPLETED | TIMEOUT | EXITED | DIED | START_FAILED | CANCELLED
    detail: str = ""
    stopped_at: int | None = None  # the cell that was running when the run ended early
    exit_code: int | None = None
    stderr_tail: str = ""
    seconds: float = 0.0

    @property
    def memory_exhausted(self) -> bool:
        texts = [f"{c.ename}: {c.evalue}" for c in self.cells.values() if c.status == Status.ERROR]
        if self.fate == Status.DIED:
            texts.append(self.stderr_tail)
        return any(is_memory_error(t) for t in texts)

    @property
    def exits(self) -> list[int]:
        """Cells that tried to end the interpreter (``sys.exit()``, ``exit()``)."""
        return [i for i, c in self.cells.items() if c.exit_requested or c.ename == "SystemExit"]


@dataclass
class TestResult:
    """One graded test cell: ``score`` of ``points``; ``message`` says why it failed."""

    index: int
    grade_id: str
    title: str
    points: float
    score: float
    passed: bool
    message: str = ""
    tampered: str = ""
    ran: bool = True
