"""The nbgrader gradebook (``OUT/course/gradebook.db``) as grading leaves it, and what the
instructor adds to it by hand in formgrader.

:func:`sync_gradebook` puts the results in: each student with their roster name, email and LMS
id (formgrader shows them), the assignment's due date and each submission's time (so nbgrader's
own late-penalty plugin applies, and formgrader shows the timestamp), the autograded scores, and
the late penalty of the course's ``nbgrader_config.py`` (``c.AssignLatePenalties.plugin_class``,
``c.LateSubmissionPlugin.penalty_method``; none by default). Written answers stay "needs manual
grading"; a submission whose run went wrong (``kernel_died``, ``timeout``, ...) has its tests
flagged for manual review, so formgrader does not show it as simply graded.

:func:`read_manual` reads back what formgrader added (manual scores) and the late penalties,
for ``grades.csv``, the feedback pages and the LMS files. The changes go into a copy of
``gradebook.db`` that then replaces it in one rename: an interruption leaves the old gradebook
or the new one, never a mix.
"""

from __future__ import annotations

import shutil
import warnings
from datetime import datetime, timezone
from pathlib import Path

from rnncourse.runtime.files import atomic_path
from rnncourse.grading.outcomes import NOT_EXECUTED, Status

__all__ = ["COURSE_ID", "read_manual", "sync_gradebook"]

COURSE_ID = "rnncourse"
REVIEW = {Status.TIMEOUT, Status.MEMORY, Status.KERNEL_DIED, Status.EXITED, Status.TAMPERED}


def _utc(text: str | None) -> datetime | None:
    """nbgrader stores naive UTC times."""
    return datetime.fromisoformat(text).astimezone(timezone.utc).replace(tzinfo=None) if text else None


def _wanted(r: dict) -> dict:
    info = r.get("student_info") or {}
    return {"first_name": info.get("first_name") or None, "last_name": info.get("last_name") or None,
            "email": info.get("email") or None, "lms_user_id": info.get("lms_id") or None,
            "timestamp": _utc(r.get("submitted")), "duedate": _utc(r.get("due")),
            "scores": {t["grade_id"]: t["score"] for t in r["tests"]}, "review": r["status"] in REVIEW}


def _differs(gb, r: dict) -> bool:
    from nbgrader.api import MissingEntry

    want = _wanted(r)
    try:
        sub = gb.find_submission(r["assignment"], r["student"])
        nb = gb.find_submission_notebook(r["assignment"], r["assignment"], r["student"])
    except MissingEntry:
        return True
    student = sub.student
    if any(getattr(student, k) != want[k] for k in ("first_name", "last_name", "email", "lms_user_id")):
        return True
    if sub.timestamp != want["timestamp"] or sub.assignment.duedate != want["duedate"]:
        return True
    if r["status"] in NOT_EXECUTED and any(g.needs_manual_grade for g in nb.grades if g.name not in want["scores"]):
        return True
    tests = [g for g in nb.grades if g.name in want["scores"]]
    return any(g.auto_score is None or float(g.auto_score) != want["scores"][g.name] or
               (want["review"] and not g.needs_manual_grade and g.manual_score is None) for g in tests)


def sync_gradebook(course: Path, results: list[dict]) -> int:
    """Put ``results`` into the gradebook; return how many students changed."""
    with warnings.catch_warnings():  # nbgrader under SQLAlchemy 2 warns about autoflush; harmless
        warnings.simplefilter("ignore")
        return _sync(course, [r for r in results if r["status"] != Status.ERROR])


def _sync(course: Path, results: list[dict]) -> int:
    from nbgrader.api import Gradebook

    db = course / "gradebook.db"
    with Gradebook(f"sqlite:///{db}", COURSE_ID) as gb:
        changed = [r for r in results if _differs(gb, r)]
    if not changed:
        return 0
    penalty = _late_penalty_plugin(course)
    with atomic_path(db, fsync=True, tmp=course / ".gradebook.db.tmp") as tmp:
        shutil.copyfile(db, tmp)
        with Gradebook(f"sqlite:///{tmp}", COURSE_ID) as gb:
            for r in changed:
                _put(gb, r, penalty)
            gb.db.commit()
    return len(changed)


def _put(gb, r: dict, penalty) -> None:
    want = _wanted(r)
    gb.update_or_create_student(r["student"], **{k: want[k] for k in ("first_name", "last_name", "email",
                                                                        "lms_user_id")})
    gb.find_assignment(r["assignment"]).duedate = want["duedate"]
    sub = gb.update_or_create_submission(r["assignment"], r["student"])
    sub.timestamp = want["timestamp"]
    nb = gb.find_submission_notebook(r["assignment"], r["assignment"], r["student"])
    total = 0.0
    for grade in nb.grades:
        if grade.name in want["scores"]:
            grade.auto_score = want["scores"][grade.name]
            grade.needs_manual_grade = grade.manual_score is not None or want["review"]
        elif r["status"] in NOT_EXECUTED:  # a written answer in a file that was never there
            grade.needs_manual_grade = False
        chosen = grade.manual_score if grade.manual_score is not None else grade.auto_score
        total += float(chosen or 0)
    nb.late_submission_penalty = None
    seconds = (want["timestamp"] - want["duedate"]).total_seconds() if want["timestamp"] and want["duedate"] else 0
    if seconds > 0 and penalty is not None:
        value = penalty.late_submission_penalty(r["student"], total, seconds)
        nb.late_submission_penalty = None if value is None else min(max(0.0, value), total)


def _late_penalty_plugin(course: Path):
    """nbgrader's late-penalty plugin as the course's ``nbgrader_config.py`` sets it up."""
    from nbgrader.preprocessors import AssignLatePenalties
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (course / "nbgrader_config.py").exists():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    step = AssignLatePenalties(config=config)
    step.init_plugin()
    return step.plugin_inst


def read_manual(course: Path, results: list[dict]) -> dict[tuple[str, str], dict]:
    """``{(assignment, student): {"manual": {grade_id: score or None}, "overrides": {grade_id:
    score}, "penalty": float}}``: the written answers' scores (``None``: not graded yet), the tests
    re-scored by hand in formgrader, and the late penalty, from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
            for r in results:
                manual_ids = {m["grade_id"] for m in r.get("manual", [])}
                try:
                    nb = gb.find_submission_notebook(r["assignment"], r["assignment"], r["student"])
                except MissingEntry:
                    continue
                found[(r["assignment"], r["student"])] = {
                    "manual": {g.name: g.manual_score for g in nb.grades if g.name in manual_ids},
                    "overrides": {g.name: g.manual_score for g in nb.grades  # a test re-scored by hand
                                  if g.name not in manual_ids and g.manual_score is not None},
                    "penalty": float(nb.late_submission_penalty or 0.0)}
    return found
