"""The grades as files: ``grades.csv`` (everything, one row per student and assignment) and the
import file of an LMS (``--lms canvas`` or ``--lms moodle``).

Both are made from the result files and the gradebook together, so the written answers graded
by hand in formgrader and the late penalty count: run ``rnncourse grade`` again after grading by
hand (nothing is regraded) and the files hold the final grades.

``grades.csv`` columns: ``student, first_name, last_name, email, lms_id, assignment, score,
max_score, status, reason, submitted, due, minutes_late, late_penalty, needs_manual_grading``,
then one column per graded cell (``ex1-tests``, ``ex2-written``, ...; empty where an assignment
has no such cell or a written answer is not graded yet). ``score`` is autograded points plus
points given by hand minus the late penalty; a test re-scored by hand in formgrader (after
reviewing a run that went wrong) counts with the score given by hand.

The LMS files follow each LMS's documented import format:

* **Canvas** (Grades → Import, "How do I import grades in the Gradebook?"): the columns
  ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per assignment, and a
  ``Points Possible`` row under the header. Canvas finds the student by ``ID`` (its numeric user
  id: the roster's ``lms_id``, or the number in the Canvas download's file names) or
  ``SIS User ID`` (the roster's ``id``); a column that matches no assignment creates one, named
  after the assignment (rename the header to ``Name (assignment id)`` to fill an existing one).
* **Moodle** (Grades → Import → CSV file, gradeimport_csv): ``First name, Surname, ID number,
  Email address``, then one column per assignment; on the import page, map the user "from"
  ``Email address`` "to" email address (or ``ID number`` to ID number) and each assignment
  column to its grade item.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rnncourse.runtime.files import write_if_changed
from rnncourse.grading.outcomes import NOT_EXECUTED, Status

__all__ = ["LMS_KINDS", "grade_rows", "write_grades_csv", "write_lms"]

BASE_FIELDS = ["student", "first_name", "last_name", "email", "lms_id", "assignment", "score", "max_score",
               "status", "reason", "submitted", "due", "minutes_late", "late_penalty", "needs_manual_grading"]
LMS_KINDS = ("canvas", "moodle")
CANVAS_FIELDS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_FIELDS = ["First name", "Surname", "ID number", "Email address"]


def _points(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def grade_rows(results: list[dict], by_hand: dict[tuple[str, str], dict]) -> list[dict]:
    """One ``grades.csv`` row per result; ``by_hand``: :func:`~rnncourse.grading.gradebook.read_manual`."""
    rows = []
    for r in results:
        info = r.get("student_info") or {}
        found = by_hand.get((r["assignment"], r["student"]), {})
        manual = found.get("manual", {})
        penalty = found.get("penalty", 0.0)
        waiting = [] if r["status"] in NOT_EXECUTED else [  # nothing to read by hand in a missing file
            m["grade_id"] for m in r.get("manual", []) if manual.get(m["grade_id"]) is None]
        overrides = found.get("overrides", {})
        auto = sum(overrides.get(t["grade_id"], t["score"]) for t in r["tests"])
        score = max(0.0, auto + sum(v for v in manual.values() if v is not None) - penalty)
        row = {"student": r["student"], **{k: info.get(k, "") for k in ("first_name", "last_name", "email", "lms_id")},
               "assignment": r["assignment"], "score": _points(score), "max_score": _points(r["max_score"]),
               "status": r["status"], "reason": r["reason"], "submitted": r.get("submitted") or "",
               "due": r.get("due") or "", "minutes_late": "" if r.get("minutes_late") is None else r["minutes_late"],
               "late_penalty": _points(penalty), "needs_manual_grading": " ".join(waiting)}
        if r.get("late") and r.get("minutes_late") is None:
            row["minutes_late"] = "late (time unknown)"
        row.update({t["grade_id"]: _points(overrides.get(t["grade_id"], t["score"])) for t in r["tests"]})
        row.update({m["grade_id"]: _points(manual.get(m["grade_id"])) for m in r.get("manual", [])})
        rows.append(row)
    return sorted(rows, key=lambda row: (row["assignment"], row["student"]))


def _csv(fields: list[str], rows: list[dict], first: list[dict] = ()) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows([*first, *rows])
    return buffer.getvalue()


def write_grades_csv(out: Path, rows: list[dict], results: list[dict]) -> Path:
    """``OUT/grades.csv`` (replaced whole) from :func:`grade_rows`."""
    cells = []
    for r in results:  # the graded cells in notebook order, across assignments
        for gid in [t["grade_id"] for t in r["tests"]] + [m["grade_id"] for m in r.get("manual", [])]:
            if gid not in cells:
                cells.append(gid)
    write_if_changed(out / "grades.csv", _csv(BASE_FIELDS + cells, rows))
    return out / "grades.csv"


def write_lms(out: Path, kind: str, rows: list[dict]) -> tuple[Path, list[str]]:
    """``OUT/canvas-import.csv`` or ``OUT/moodle-import.csv``: one row per student, one column per
    assignment; returns the path and the problems to tell the instructor (students the LMS
    cannot identify, written answers not graded yet). Grader failures are left out (blank)."""
    assignments = sorted({row["assignment"] for row in rows})
    students: dict[str, dict] = {}
    problems = []
    for row in rows:
        person = students.setdefault(row["student"], dict(row))
        if row["status"] != Status.ERROR:
            person[row["assignment"]] = row["score"]
        if row["needs_manual_grading"]:
            problems.append(f"{row['student']} ({row['assignment']}): written answers not graded yet "
                            f"({row['needs_manual_grading']}); they count 0 in this file")
    if kind == "canvas":
        lines = [{"Student": f"{p['last_name']}, {p['first_name']}".strip(", ") or p["student"], "ID": p["lms_id"],
                  "SIS User ID": p["student"], "SIS Login ID": "", "Section": "", **{a: p.get(a, "") for a in assignments}}
                 for p in students.values()]
        possible = {row["assignment"]: row["max_score"] for row in rows}
        text = _csv(CANVAS_FIELDS + assignments, lines, [{"Student": "Points Possible", **possible}])
        missing = [p["student"] for p in students.values() if not p["lms_id"]]
        if missing:
            problems.append(f"no Canvas user id for {', '.join(missing)}: Canvas matches them by SIS User ID "
                            "(their id here) only; give the roster an lms_id column")
    elif kind == "moodle":
        lines = [{"First name": p["first_name"], "Surname": p["last_name"], "ID number": p["student"],
                  "Email address": p["email"], **{a: p.get(a, "") for a in assignments}} for p in students.values()]
        text = _csv(MOODLE_FIELDS + assignments, lines)
        missing = [p["student"] for p in students.values() if not p["email"]]
        if missing:
            problems.append(f"no email for {', '.join(missing)}: map users by ID number on Moodle's import page, "
                            "or give the roster an email column")
    else:
        raise ValueError(f"unknown LMS {kind!r}; choose one of {', '.join(LMS_KINDS)}")
    path = out / f"{kind}-import.csv"
    write_if_changed(path, text)
    return path, problems
