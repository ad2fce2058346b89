"""Restoring a submission before it runs: every locked cell and test comes back from the source.

nbgrader's own preprocessors (``OverwriteCells`` and friends) do it against the course's
gradebook, so visible *and hidden* tests come from the source, never from what the student sent;
locked cells the student deleted are put back where they belong. nbgrader, its SQLAlchemy
gradebook and nbformat were not written for threads (and CPython 3.11 builds AST objects
unsafely in threads, python/cpython#106905): the grading threads take :data:`NOT_THREAD_SAFE`
around every use of them.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import nbformat

from rnncourse.grading.assignments import AssignmentError, make_course, read_source, write_nbgrader_config
from rnncourse.grading.cells import grade_id, nbgrader

__all__ = ["NOT_THREAD_SAFE", "prepare_course", "restore"]

NOT_THREAD_SAFE = threading.Lock()


def prepare_course(course: Path, name: str, solutions: Path | None = None) -> str:
    """Make (or check) the nbgrader course folder for ``name``; return the source notebook's text."""
    source_text = nbformat.writes(read_source(name, solutions)) + "\n"
    source_file = course / "source" / name / f"{name}.ipynb"
    if (course / "gradebook.db").exists() and source_file.exists():
        if source_file.read_text(encoding="utf-8") != source_text:
            raise AssignmentError(
                f"solutions/{name} has changed since {course} was made: grades would mix two versions "
                f"of the assignment. Grade into a new --out folder, or move {course.parent} away to start over.")
        write_nbgrader_config(course)  # a course made before it was written
        return source_text
    make_course(course, [name], solutions)  # adds the assignment; the course's other assignments are left alone
    return source_text


def _quiet_log() -> logging.Logger:
    log = logging.getLogger("rnncourse.grading.nbgrader")
    log.setLevel(logging.ERROR)
    return log


def _source_of(cell) -> str:
    return "\n".join(line.rstrip() for line in cell.source.strip().splitlines())


def restore(nb: nbformat.NotebookNode, course: Path, name: str, student: str) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook to execute: ``nb`` with every locked cell and test restored from the source.

    Returns it and notes on what was restored (edited, deleted or duplicated locked cells).
    Raises ``ValueError`` when the nbgrader metadata is too broken to grade.
    """
    try:
        with NOT_THREAD_SAFE:
            return _restore(nbformat.from_dict(json.loads(json.dumps(nb))), course, name, student)
    except Exception as err:  # nbgrader's preprocessors on metadata a student has mangled
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"the notebook's grading metadata is damaged ({first}); it cannot be graded") from None


def _restore(nb: nbformat.NotebookNode, course: Path, name: str, student: str) -> tuple[nbformat.NotebookNode, list[str]]:
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec

    release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    notes = []
    by_id: dict[str, list] = {}
    for cell in nb.cells:
        if grade_id(cell):
            by_id.setdefault(grade_id(cell), []).append(cell)
    full = {grade_id(c): _source_of(c) for c in source.cells}
    for cell in release.cells:
        meta = nbgrader(cell)
        if not meta.get("locked") or cell.cell_type != "code":
            continue
        gid, theirs = meta["grade_id"], by_id.get(meta["grade_id"], [])
        if not theirs:
            notes.append(f"{gid} (deleted)")
        elif len(theirs) > 1:
            notes.append(f"{gid} (duplicated)")
        elif theirs[0].cell_type != "code" or _source_of(theirs[0]) not in (_source_of(cell), full.get(gid)):
            notes.append(f"{gid} (edited)")  # the release's cell, or the source's with hidden tests, is fine
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    resources = {"nbgrader": {"notebook": name, "assignment": name, "student": student, "db_url": db_url}}
    log = _quiet_log()
    for step in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells):
        nb, resources = step(log=log).preprocess(nb, resources)
    # put back the locked cells that are missing, each after the nearest cell before it in the source
    present = {grade_id(c) for c in nb.cells} - {None}
    order = [grade_id(c) for c in source.cells]
    for k, cell in enumerate(source.cells):
        if not nbgrader(cell).get("locked") or grade_id(cell) in present:
            continue
        previous = [g for g in order[:k] if g in present]
        at = 1 + next(j for j, c in enumerate(nb.cells) if grade_id(c) == previous[-1]) if previous else 0
        nb.cells.insert(at, nbformat.from_dict(json.loads(json.dumps(cell))))
        present.add(grade_id(cell))
    nb, resources = CheckCellMetadata(log=log).preprocess(nb, resources)
    return nb, notes
