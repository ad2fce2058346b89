"""What a student notebook carries about itself, so that ``rnncourse check`` judges it as
``rnncourse grade`` will, with nothing but the notebook.

``make exercises`` writes into each release notebook's metadata (key ``rnncourse``)::

    {"assignment": "01-rnn-math",
     "locked": [{"grade_id": "ex1-tests", "source": "...", "points": 2.0,
                 "title": "Exercise 1: ..."}, ...],
     "answers": {"ex1-answer": "<sha256 of the released answer cell>", ...},
     "order": ["setup", "ex1-answer", "ex1-tests", ...]}

``locked`` holds every locked code cell as released (set-up cells and visible tests, in notebook
order; hidden tests are never in a release), so a self-check puts back a deleted or edited test
cell exactly as the grader does (:mod:`rnncourse.grading.restore`), and names it with the points
at stake, after the nearest cell that comes before it in ``order``. ``answers`` says which answer cells are still as released: an exercise whose answers
are all untouched is "not answered yet", not a failure to explain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import nbformat

from rnncourse.grading.cells import exercise_titles, grade_id, nbgrader, test_cells

__all__ = ["KEY", "Restored", "make_manifest", "restore_locked", "unanswered_tests"]

KEY = "rnncourse"


def _normal(source: str) -> str:
    """A cell's source as the grader compares it: trailing spaces and blank ends ignored."""
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _sha(source: str) -> str:
    return hashlib.sha256(_normal(source).encode()).hexdigest()


def make_manifest(release: nbformat.NotebookNode, name: str) -> dict:
    """The ``rnncourse`` metadata of the release notebook ``release`` of assignment ``name``."""
    titles = exercise_titles(release)
    locked = []
    for i, cell in enumerate(release.cells):
        meta = nbgrader(cell)
        if cell.cell_type == "code" and meta.get("locked"):
            entry = {"grade_id": meta["grade_id"], "source": cell.source}
            if i in titles:
                entry.update(points=float(meta.get("points", 0)), title=titles[i])
            locked.append(entry)
    answers = {grade_id(c): _sha(c.source) for c in release.cells
               if c.cell_type == "code" and nbgrader(c).get("solution")}
    order = [grade_id(c) for c in release.cells if grade_id(c)]
    return {"assignment": name, "locked": locked, "answers": answers, "order": order}


@dataclass
class Restored:
    """What a self-check put back, in the grader's words (``ex2-tests (deleted)``)."""

    notes: list[str] = field(default_factory=list)
    at_stake: list[str] = field(default_factory=list)  # "Exercise 2: ... (3 points): deleted"


def restore_locked(nb: nbformat.NotebookNode, manifest: dict) -> tuple[nbformat.NotebookNode, Restored]:
    """A copy of ``nb`` with every locked cell of ``manifest`` as released, as the grader does."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    restored = Restored()
    order = manifest.get("order") or [entry["grade_id"] for entry in manifest.get("locked", [])]
    for entry in manifest.get("locked", []):
        gid = entry["grade_id"]
        theirs = [k for k, c in enumerate(nb.cells) if grade_id(c) == gid]
        if len(theirs) == 1 and nb.cells[theirs[0]].cell_type == "code" and _normal(
                nb.cells[theirs[0]].source) == _normal(entry["source"]):
            continue
        what = "deleted" if not theirs else "duplicated" if len(theirs) > 1 else "edited"
        for k in reversed(theirs[1:]):
            del nb.cells[k]
        cell = _released_cell(entry)
        if theirs:
            nb.cells[theirs[0]] = cell
        else:
            before = [g for g in order[: order.index(gid)] if any(grade_id(c) == g for c in nb.cells)]
            at = 1 + next(k for k, c in enumerate(nb.cells) if grade_id(c) == before[-1]) if before else 0
            nb.cells.insert(at, cell)
        restored.notes.append(f"{gid} ({what})")
        if "points" in entry:
            title = entry["title"] if "point" in entry["title"] else f"{entry['title']} ({entry['points']:g} points)"
            restored.at_stake.append(f"{title}: its test cell was {what}")
    return nb, restored


def _released_cell(entry: dict) -> nbformat.NotebookNode:
    meta = {"grade": "points" in entry, "grade_id": entry["grade_id"], "locked": True, "solution": False,
            "schema_version": 3}
    if "points" in entry:
        meta["points"] = entry["points"]
    cell = nbformat.v4.new_code_cell(entry["source"], metadata={"nbgrader": meta, "editable": False,
                                                                 "deletable": False})
    cell["id"] = entry["grade_id"]
    return cell


def unanswered_tests(nb: nbformat.NotebookNode, manifest: dict) -> set[int]:
    """Indices of the test cells whose exercise's answer cells are all still as released."""
    released = manifest.get("answers", {})
    unanswered, answers = set(), []
    tests = set(test_cells(nb))
    for i, cell in enumerate(nb.cells):
        meta = nbgrader(cell)
        if cell.cell_type == "code" and meta.get("solution") and grade_id(cell) in released:
            answers.append(released[grade_id(cell)] == _sha(cell.source))
        elif i in tests:
            if answers and all(answers):
                unanswered.add(i)
            answers = []
    return unanswered
