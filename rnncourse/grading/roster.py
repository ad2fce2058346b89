"""The class list: who is in the class, under which id, name, email and LMS id.

``--roster roster.csv`` has one row per student with the columns ``id, first_name, last_name,
email, lms_id`` (names case-insensitive, ``id`` required, the others may be empty)::

    id,first_name,last_name,email,lms_id
    asmith,Alice,Smith,alice@uni.example,4711

A submission belongs to a roster row when its student id (:mod:`~rnncourse.grading.submissions`)
is the row's ``id`` or ``email``, or when the LMS id in its file name is the row's ``lms_id``
(Canvas: the user id in ``login_4711_902_NN-slug.ipynb``; Moodle: the participant number in
``Full Name_4711_assignsubmission_file_``). It is then graded under the roster's ``id``; a
submission that matches no row is graded under its own id and listed as not on the roster; a
student on the roster without a submission gets the status ``missing``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from rnncourse.grading.outcomes import Status
from rnncourse.grading.submissions import Submission, SubmissionsError

__all__ = ["Roster", "RosterError", "Student", "match_roster", "read_roster"]

COLUMNS = ("id", "first_name", "last_name", "email", "lms_id")


class RosterError(Exception):
    """The roster file cannot be used, said so an instructor can fix it."""


@dataclass(frozen=True)
class Student:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_id: str = ""


@dataclass
class Roster:
    students: list[Student]

    def find(self, student: str, lms_id: str = "") -> Student | None:
        """The roster row of a submitter (by id, email or LMS id); ``None`` when not on it."""
        for s in self.students:
            if student in (s.id, s.email) or (lms_id and lms_id == s.lms_id):
                return s
        return None

    def by_id(self) -> dict[str, Student]:
        return {s.id: s for s in self.students}


def read_roster(path: Path) -> Roster:
    """Read ``path`` (UTF-8 CSV with a header row; Excel's byte-order mark is fine)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise RosterError(f"cannot read the roster {path}: {err}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
    if "id" not in header:
        raise RosterError(f"the roster {path} needs a header row with an 'id' column "
                          f"(and optionally {', '.join(COLUMNS[1:])}); it has: {', '.join(header) or 'nothing'}")
    students, seen = [], {}
    for line, row in enumerate(reader, start=2):
        values = {c: (row.get(header[c]) or "").strip() if c in header else "" for c in COLUMNS}
        if not values["id"]:
            if any(values.values()):
                raise RosterError(f"{path}, line {line}: the student has no id")
            continue
        if not re.fullmatch(r"[A-Za-z0-9._@-]+", values["id"]):
            raise RosterError(f"{path}, line {line}: the id {values['id']!r} may only have letters, digits and . _ @ -")
        for column in ("id", "email", "lms_id"):
            key = (column, values[column])
            if values[column] and key in seen:
                raise RosterError(f"{path}, line {line}: {column} {values[column]!r} is also on line {seen[key]}")
            seen[key] = line
        students.append(Student(**values))
    if not students:
        raise RosterError(f"the roster {path} has no students")
    return Roster(students)


def match_roster(subs: list[Submission], roster: Roster) -> list[str]:
    """Give each submission its roster id, in place; add a ``missing`` submission for every
    student on the roster who sent nothing; return the submitters not on the roster."""
    unknown, taken = [], {}
    for sub in subs:
        row = roster.find(sub.student, sub.lms_id)
        if row is None:
            unknown.append(sub.student)
            continue
        if row.id in taken:
            raise SubmissionsError(f"{taken[row.id]!r} and {sub.student!r} are both {row.id} on the roster; "
                                   "keep one of the two submissions")
        taken[row.id] = sub.student
        sub.student = row.id
    for row in roster.students:
        if row.id not in taken and not any(s.student == row.id for s in subs):
            subs.append(Submission(row.id, "(the roster)", problem=Status.MISSING,
                                   reason="no submission from this student was found in the download"))
    subs.sort(key=lambda s: s.student)
    return unknown
