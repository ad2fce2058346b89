"""Find each student's notebook in a folder or an LMS zip, and say what is wrong with it.

Accepted layouts (``NN-slug`` is the assignment, e.g. ``01-rnn-math``)::

    SUBMISSIONS/alice/NN-slug.ipynb                 one folder per student
    SUBMISSIONS/alice/NN-slug/NN-slug.ipynb          (nbgrader's submitted/ layout)
    SUBMISSIONS/Alice Smith_4711_assignsubmission_file_/NN-slug.ipynb    (Moodle download)
    SUBMISSIONS/alice_4711_902_NN-slug.ipynb        one flat file per student (Canvas download:
                                                    login _ ids [_LATE] _ original file name)

and the same inside a ``.zip`` file. The student id is the folder name (Moodle's
``_assignsubmission_file_`` suffix removed) or, for flat files, the text before the first
``_``; characters other than letters, digits and ``. _ @ -`` become ``-``. A submission also
keeps what the names say for the roster and lateness (:mod:`~rnncourse.grading.roster`,
:mod:`~rnncourse.grading.lateness`): the LMS id (Canvas's user id, the first number of a flat
name; Moodle's participant number before ``_assignsubmission_file_``), Canvas's ``LATE`` flag
(either case), and nbgrader's ``timestamp.txt`` beside the notebook.

The notebook must be named ``NN-slug.ipynb``; ``NN-slug-2.ipynb`` (an LMS's re-submission
numbering) is accepted too, the highest number winning. Anything else is reported, not guessed:

========================  ==========================================================
``missing``               the student's folder has no notebook
``wrong_filename``        there is a notebook, but not under the assignment's name
``empty``                 the file is empty, or the notebook has no cells
``invalid_json``          the file is not JSON (truncated upload, a PDF renamed)
``invalid_notebook``      JSON, but not a Jupyter notebook, or larger than the limit
========================  ==========================================================

Zip members are read into memory with their size checked first (no ``../`` paths are ever
written anywhere, and a zip bomb is stopped at the size limit).
"""

from __future__ import annotations

import json
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

import nbformat

from rnncourse.grading.outcomes import Status

__all__ = ["Submission", "SubmissionsError", "collect", "notebook_name"]

MOODLE_SUFFIX = re.compile(r"_assignsubmission_file_?$")
MOODLE_PARTICIPANT = re.compile(r"_(\d+)_assignsubmission_file_?$")
SKIP = re.compile(r"^(\..*|__MACOSX|\.ipynb_checkpoints)$")


class SubmissionsError(Exception):
    """The SUBMISSIONS argument cannot be read as a class's submissions."""


@dataclass
class Submission:
    """One student's submission; ``problem`` is a status when it cannot be graded at all."""

    student: str
    origin: str  # where it came from, for messages: a path or "class.zip:alice/NN.ipynb"
    data: bytes | None = None
    problem: Status | None = None
    reason: str = ""
    notebook: nbformat.NotebookNode | None = None
    lms_id: str = ""  # Canvas's user id or Moodle's participant number, from the file's name
    late: bool = False  # Canvas marked the file LATE
    timestamp: str = ""  # nbgrader's timestamp.txt beside the notebook, as written there


def student_id(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._@-]+", "-", MOODLE_SUFFIX.sub("", text)).strip("-.")
    return cleaned


def _entries(path: Path, max_bytes: int) -> list[tuple[tuple[str, ...], int, Callable[[], bytes], str]]:
    """``(parts, size, read, origin)`` for every file in the folder or zip."""
    entries = []
    if path.is_dir():
        for file in sorted(path.rglob("*")):
            parts = file.relative_to(path).parts
            if file.is_file() and not any(SKIP.match(p) for p in parts):
                entries.append((parts, file.stat().st_size, file.read_bytes, str(file)))
    elif zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        for info in archive.infolist():
            parts = tuple(p for p in PurePosixPath(info.filename.replace("\\", "/")).parts if p not in ("", ".", "..", "/"))
            if info.is_dir() or not parts or any(SKIP.match(p) for p in parts):
                continue

            def read(info=info) -> bytes:
                with archive.open(info) as member:
                    return member.read(max_bytes + 1)

            entries.append((parts, info.file_size, read, f"{path.name}:{info.filename}"))
    elif path.exists():
        raise SubmissionsError(f"{path} is neither a folder nor a zip file")
    else:
        raise SubmissionsError(f"{path} does not exist")
    return entries


def _flat_name(name: str) -> tuple[str, str, str, bool]:
    """Canvas: ``login[_LATE]_userid_submissionid_original.ipynb`` -> (login, original, userid, late)."""
    tokens = name.split("_")
    if len(tokens) == 1:
        return Path(name).stem, name, "", False
    rest, numbers, late = tokens[1:], [], False
    while len(rest) > 1 and (rest[0].isdigit() or rest[0].upper() == "LATE"):
        late = late or rest[0].upper() == "LATE"
        numbers += [rest[0]] if rest[0].isdigit() else []
        rest = rest[1:]
    return tokens[0], "_".join(rest), numbers[0] if numbers else "", late


def _check(sub: Submission, max_bytes: int) -> None:
    data = sub.data or b""
    if len(data) > max_bytes:
        sub.problem = Status.INVALID_NOTEBOOK
        sub.reason = f"the file is larger than the limit of {max_bytes // 2**20} MB"
        return
    if not data.strip():
        sub.problem, sub.reason = Status.EMPTY, "the file is empty"
        return
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        sub.problem, sub.reason = Status.INVALID_JSON, f"the file is not valid JSON ({err}); it may be truncated or not a notebook"
        return
    try:
        if not isinstance(raw, dict) or "cells" not in raw:
            raise ValueError("it has no list of cells")
        with warnings.catch_warnings():  # missing cell ids are added, not worth a warning here
            warnings.simplefilter("ignore")
            nb = nbformat.reads(json.dumps(raw), as_version=4)
            nbformat.validate(nb)
    except Exception as err:
        sub.problem = Status.INVALID_NOTEBOOK
        sub.reason = f"the file is JSON but not a valid Jupyter notebook: {str(err).splitlines()[0][:200]}"
        return
    if not nb.cells:
        sub.problem, sub.reason = Status.EMPTY, "the notebook has no cells"
        return
    sub.notebook = nb


def notebook_name(assignment: str) -> re.Pattern:
    """The names a submission of ``assignment`` may have: ``NN-slug.ipynb``, ``NN-slug-2.ipynb``."""
    return re.compile(rf"^{re.escape(assignment)}(?:-(\d+))?\.ipynb$")


def _gather(path: Path, max_bytes: int) -> tuple[dict[str, list], dict[str, dict]]:
    """``{student: [(name, size, read, origin), ...]}`` and what the names say of each student
    (``lms_id``, ``late``, ``timestamp``)."""
    found: dict[str, list[tuple[str, int, Callable[[], bytes], str]]] = {}
    info: dict[str, dict] = {}
    folders: dict[str, str] = {}
    for parts, size, read, origin in _entries(Path(path), max_bytes):
        if len(parts) == 1:
            raw_student, name, lms_id, late = _flat_name(parts[0])
        else:
            raw_student, name = parts[0], parts[-1]
            lms_id, late = (m.group(1) if (m := MOODLE_PARTICIPANT.search(raw_student)) else ""), False
        student = student_id(raw_student)
        if not student:
            continue
        if folders.setdefault(student, raw_student) != raw_student:
            raise SubmissionsError(
                f"{folders[student]!r} and {raw_student!r} both become the student id {student!r}; "
                "rename one of them")
        known = info.setdefault(student, {"lms_id": "", "late": False, "timestamp": ""})
        known["lms_id"], known["late"] = known["lms_id"] or lms_id, known["late"] or late
        if name == "timestamp.txt" and size < 1000:
            known["timestamp"] = read().decode("utf-8", "replace").strip()
            continue
        found.setdefault(student, []).append((name, size, read, origin))
    if Path(path).is_dir():  # a student folder with nothing in it is a missing submission
        for folder in Path(path).iterdir():
            if folder.is_dir() and not SKIP.match(folder.name) and student_id(folder.name):
                found.setdefault(student_id(folder.name), [])
    return found, info


def _submission(student: str, files: list, assignment: str, max_bytes: int, path: Path) -> Submission:
    """The submission of one student from the files found for them."""
    matching = [(int(m.group(1) or 0), f) for f in files if (m := notebook_name(assignment).match(f[0]))]
    if matching:
        _, (name, size, read, origin) = max(matching, key=lambda x: x[0])
        sub = Submission(student, origin)
        if size > max_bytes:
            sub.problem = Status.INVALID_NOTEBOOK
            sub.reason = f"the file is larger than the limit of {max_bytes // 2**20} MB"
        else:
            sub.data = read()
            _check(sub, max_bytes)
    elif any(f[0].endswith(".ipynb") for f in files):
        names = ", ".join(sorted(f[0] for f in files if f[0].endswith(".ipynb")))
        sub = Submission(student, files[0][3], problem=Status.WRONG_FILENAME,
                         reason=f"expected a notebook named {assignment}.ipynb, found {names}; "
                                "rename it and run grade again to grade it")
    else:
        others = ", ".join(sorted(f[0] for f in files)) or "nothing"
        sub = Submission(student, files[0][3] if files else str(Path(path) / student), problem=Status.MISSING,
                         reason=f"no notebook was submitted (found {others})")
    return sub


def collect(path: Path, assignment: str, max_bytes: int = 50 * 2**20) -> list[Submission]:
    """Every student's submission of ``assignment`` found at ``path``, sorted by student id."""
    found, info = _gather(path, max_bytes)
    submissions = []
    for student in sorted(found):
        sub = _submission(student, found[student], assignment, max_bytes, path)
        sub.lms_id, sub.late, sub.timestamp = (info.get(student, {}).get(k, d) for k, d in
                                               (("lms_id", ""), ("late", False), ("timestamp", "")))
        submissions.append(sub)
    return submissions
