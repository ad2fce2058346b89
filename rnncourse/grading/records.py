"""What grading a class leaves behind: a result file per student, the gradebook, ``grades.csv``,
the feedback pages and ``errors.log``.

A result file (``OUT/results/ASSIGNMENT/STUDENT.json``) is written first, atomically; the
gradebook (a copy that replaces ``gradebook.db`` in one rename), the feedback pages and
``grades.csv`` (replaced whole) are rebuilt from the result files once per run. A stored result
is reused when its key (submission, source, limits, sandbox, grader version) is unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from rnncourse.runtime.files import atomic_path, write_if_changed
from rnncourse.grading.feedback import feedback_html
from rnncourse.grading.sandbox import Limits
from rnncourse.grading.outcomes import NOT_EXECUTED, Status
from rnncourse.grading.submissions import Submission

__all__ = ["Context", "log_error", "new_result", "previous_result", "result_key", "store_result",
           "sync_gradebook", "write_feedback", "write_grades_csv", "zero_tests"]

GRADER_VERSION = 1  # part of every result's key: a new grader regrades
CSV_FIELDS = ["student", "assignment", "score", "max_score", "status", "reason"]
COURSE_ID = "rnncourse"
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
        "score": sum(t["score"] for t in tests), "max_score": sum(ctx.points.values()),
        "tests": tests, "key": key, "submission": {"origin": sub.origin, "sha256": sha256(sub.data or b"")},
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


def write_feedback(ctx: Context, result: dict) -> None:
    """The student's feedback page (none for a grader failure: it is not a grade)."""
    if result["status"] != Status.ERROR:
        write_if_changed(ctx.feedback_path(result["student"]), feedback_html(result))


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


def sync_gradebook(course: Path, results: list[dict]) -> int:
    """Put ``results`` into the gradebook; return how many students changed.

    The changes go into a copy of ``gradebook.db`` that then replaces it in one rename, so an
    interruption leaves the old gradebook or the new one, never a mix.
    """
    with warnings.catch_warnings():  # nbgrader under SQLAlchemy 2 warns about autoflush; harmless
        warnings.simplefilter("ignore")
        return _sync_gradebook(course, results)


def _sync_gradebook(course: Path, results: list[dict]) -> int:
    from nbgrader.api import Gradebook, MissingEntry

    db = course / "gradebook.db"
    results = [r for r in results if r["status"] != Status.ERROR]

    def differs(gb, r) -> bool:
        try:
            nb = gb.find_submission_notebook(r["assignment"], r["assignment"], r["student"])
        except MissingEntry:
            return True
        scores = {t["grade_id"]: t["score"] for t in r["tests"]}
        return any(g.name in scores and (g.auto_score is None or float(g.auto_score) != scores[g.name]) for g in nb.grades)

    with Gradebook(f"sqlite:///{db}", COURSE_ID) as gb:
        changed = [r for r in results if differs(gb, r)]
    if not changed:
        return 0
    with atomic_path(db, fsync=True, tmp=course / ".gradebook.db.tmp") as tmp:
        shutil.copyfile(db, tmp)
        with Gradebook(f"sqlite:///{tmp}", COURSE_ID) as gb:
            for r in changed:
                gb.update_or_create_student(r["student"])
                gb.update_or_create_submission(r["assignment"], r["student"])
                nb = gb.find_submission_notebook(r["assignment"], r["assignment"], r["student"])
                scores = {t["grade_id"]: t["score"] for t in r["tests"]}
                for grade in nb.grades:
                    if grade.name in scores:
                        grade.auto_score = scores[grade.name]
                        grade.needs_manual_grade = grade.manual_score is not None
            gb.db.commit()
    return len(changed)


def write_grades_csv(out: Path) -> Path:
    """``grades.csv`` from every result in ``out/results/``, sorted by assignment and student."""
    rows = []
    for path in sorted((out / "results").glob("*/*.json")):
        r = json.loads(path.read_text(encoding="utf-8"))
        rows.append({"student": r["student"], "assignment": r["assignment"], "score": f"{r['score']:g}",
                     "max_score": f"{r['max_score']:g}", "status": r["status"], "reason": r["reason"]})
    rows.sort(key=lambda r: (r["assignment"], r["student"]))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_if_changed(out / "grades.csv", buffer.getvalue())
    return out / "grades.csv"
