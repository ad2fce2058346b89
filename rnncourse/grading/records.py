"""What grading a class leaves behind for each student: a result file, a feedback page and,
for a grader failure, a line in ``errors.log``.

A result file (``OUT/results/ASSIGNMENT/STUDENT.json``) is written first, atomically; the
gradebook (:mod:`~rnncourse.grading.gradebook`), ``grades.csv`` and the LMS files
(:mod:`~rnncourse.grading.exports`) and the feedback pages are rebuilt from the result files once
per run. A stored result is reused when its key (submission, source, limits, sandbox, grader
version) is unchanged; who the student is and when they submitted (:func:`annotate`) are not part
of the key: a new roster or due date updates the records without regrading.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rnncourse.runtime.files import write_if_changed
from rnncourse.grading.feedback import feedback_html
from rnncourse.grading.lateness import LatenessError, minutes_late, parse_time
from rnncourse.grading.roster import Roster
from rnncourse.grading.sandbox import Limits
from rnncourse.grading.outcomes import NOT_EXECUTED, Status
from rnncourse.grading.submissions import Submission

__all__ = ["Context", "annotate", "log_error", "write_timestamp", "new_result", "previous_result", "result_key", "store_result",
           "write_feedback", "zero_tests"]

GRADER_VERSION = 1  # part of every result's key: a new grader regrades
ERROR_LOG = "errors.log"  # in OUT: every grader failure with its traceback


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Context:
    """Everything a worker needs to grade one student of assignment ``name``."""

    name: str
    out: Path
    course: Path
    limits: Limits
    sandboxed: bool
    scratch_root: Path
    source_sha: str
    titles: dict[str, str]  # grade_id -> exercise title
    points: dict[str, float]  # grade_id -> points, in notebook order
    stop: threading.Event
    regrade: bool = False
    bindings: list = field(default_factory=list)  # import_bindings(source), worked out in the main thread
    manual: dict[str, dict] = field(default_factory=dict)  # grade_id -> {"title", "points"}: written answers
    roster: Roster | None = None
    due: datetime | None = None
    times: dict[str, datetime] = field(default_factory=dict)  # --times: student, email or LMS id -> time
    roster_only: bool = False

    def result_path(self, student: str) -> Path:
        return self.out / "results" / self.name / f"{student}.json"

    def feedback_path(self, student: str) -> Path:
        return self.out / "feedback" / self.name / f"{student}.html"

    def autograded_path(self, student: str) -> Path:
        return self.course / "autograded" / student / self.name / f"{self.name}.ipynb"

    def submitted_path(self, student: str) -> Path:
        return self.course / "submitted" / student / self.name / f"{self.name}.ipynb"


def new_result(ctx: Context, sub: Submission, key: str, status: Status, reason: str,
               tests: list[dict], seconds: float = 0.0) -> dict:
    return {
        "student": sub.student, "assignment": ctx.name, "status": status, "reason": reason,
        "score": sum(t["score"] for t in tests),
        "max_score": sum(ctx.points.values()) + sum(m["points"] for m in ctx.manual.values()),
        "tests": tests, "manual": [{"grade_id": gid, **m} for gid, m in ctx.manual.items()], "key": key, "submission": {"origin": sub.origin, "sha256": sha256(sub.data or b"")},
        "sandbox": "bubblewrap" if ctx.sandboxed else "none (--unsafe-no-sandbox)",
        "limits": ctx.limits.as_dict(), "seconds": round(seconds, 1),
    }


def zero_tests(ctx: Context, message: str) -> list[dict]:
    return [{"grade_id": gid, "title": ctx.titles[gid], "points": p, "score": 0.0, "passed": False,
             "message": message} for gid, p in ctx.points.items()]


def result_key(ctx: Context, sub: Submission) -> str:
    blob = json.dumps({"submission": sha256(sub.data or b"") if sub.data is not None else sub.problem,
                       "reason": sub.reason, "source": ctx.source_sha, "limits": ctx.limits.as_dict(),
                       "sandboxed": ctx.sandboxed, "grader": GRADER_VERSION}, sort_keys=True)
    return sha256(blob.encode())


def previous_result(ctx: Context, sub: Submission, key: str) -> dict | None:
    """The stored result when it is for exactly this submission and still complete."""
    path = ctx.result_path(sub.student)
    if ctx.regrade or not path.exists():
        return None
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    executed = old.get("status") not in NOT_EXECUTED
    if old.get("key") != key or old.get("status") == Status.ERROR or (executed and not ctx.autograded_path(sub.student).exists()):
        return None
    return old


def write_feedback(ctx: Context, result: dict, graded_by_hand: dict | None = None) -> None:
    """The student's feedback page (none for a grader failure: it is not a grade);
    ``graded_by_hand``: what :func:`~rnncourse.grading.gradebook.read_manual` found for them."""
    if result["status"] != Status.ERROR:
        write_if_changed(ctx.feedback_path(result["student"]), feedback_html(result, graded_by_hand))


def write_timestamp(ctx: Context, result: dict) -> None:
    """nbgrader's ``timestamp.txt`` beside the submitted notebook: formgrader shows it, and counts
    a submission as autograded only when it equals the gradebook's timestamp."""
    folder = ctx.submitted_path(result["student"]).parent
    path = folder / "timestamp.txt"
    if not folder.is_dir():
        return
    if result.get("submitted"):
        when = datetime.fromisoformat(result["submitted"]).astimezone(timezone.utc)
        write_if_changed(path, when.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    elif path.exists():
        path.unlink()


def annotate(ctx: Context, sub: Submission, result: dict) -> dict:
    """Who submitted (the roster's names, email and LMS id) and when (time, due date, minutes
    late) into ``result``: facts about the submission, outside the grading key."""
    row = ctx.roster.by_id().get(sub.student) if ctx.roster else None
    result["student_info"] = {"first_name": row.first_name if row else "", "last_name": row.last_name if row else "",
                              "email": row.email if row else "", "lms_id": (row.lms_id if row else "") or sub.lms_id,
                              "on_roster": row is not None if ctx.roster else None}
    keys = [sub.student, sub.lms_id, *([row.email, row.lms_id] if row else [])]
    submitted = next((ctx.times[k] for k in keys if k and k in ctx.times), None)
    if submitted is None and sub.timestamp:
        try:
            submitted = parse_time(sub.timestamp, ctx.due.tzinfo if ctx.due else timezone.utc)
        except LatenessError:
            submitted = None
    late = minutes_late(submitted, ctx.due)
    result.update(submitted=submitted.isoformat() if submitted else None,
                  due=ctx.due.isoformat() if ctx.due else None, minutes_late=late,
                  late=bool(late) or (late is None and sub.late))
    return result


def store_result(ctx: Context, result: dict) -> None:
    """The result file, then the feedback page."""
    write_if_changed(ctx.result_path(result["student"]), json.dumps(result, indent=1, sort_keys=True) + "\n")
    write_feedback(ctx, result)


def log_error(out: Path, student: str, name: str, text: str) -> None:
    """Append a grader failure (a traceback, or the reason) to ``OUT/errors.log``."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with open(out / ERROR_LOG, "a", encoding="utf-8") as f:
        f.write(f"--- {stamp} {name} {student}\n{text.rstrip()}\n\n")
