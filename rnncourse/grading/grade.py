"""``rnncourse grade``: autograde a whole class, in parallel, each submission in a sandbox.

Grading a class
===============

::

    rnncourse grade 01-rnn-math submissions.zip --out grades/01-rnn-math --workers 8

``ASSIGNMENT`` is a folder name under ``solutions/`` (``01-rnn-math``); ``SUBMISSIONS`` is a
folder or an LMS zip with one notebook per student:

* ``SUBMISSIONS/<student>/01-rnn-math.ipynb`` (one folder per student; a Moodle download, whose
  folders are named ``Full Name_4711_assignsubmission_file_``, works as it is), or
* ``SUBMISSIONS/<student>_<ids>_01-rnn-math.ipynb`` (one flat file per student, as Canvas names
  them: the student id is the text before the first ``_``).

The notebook must keep the assignment's file name (``01-rnn-math.ipynb``; an LMS's
``01-rnn-math-1.ipynb`` is accepted too). What the run writes into ``--out DIR``:

=================================  =============================================================
``grades.csv``                     ``student, assignment, score, max_score, status, reason``: one
                                   row per student and assignment graded into DIR
``feedback/<assignment>/<s>.html``  the student's page: score per exercise, failing messages
``results/<assignment>/<s>.json``  the full result per student (what a re-run starts from)
``course/``                        the nbgrader course: ``gradebook.db``, ``source/``,
                                   ``release/``, ``submitted/``, ``autograded/`` (the executed
                                   notebooks, for review with ``nbgrader formgrader``)
=================================  =============================================================

How it grades
-------------

The course folder is made from ``solutions/`` with nbgrader on the first run (``--course`` uses
another). Every submission is then

1. **restored** with nbgrader's own preprocessors against that gradebook (``OverwriteCells``
   and friends): locked cells, visible *and hidden* tests come from the source, not from what
   the student sent; locked cells the student deleted are put back where they belong;
2. **executed** cell by cell in a fresh kernel inside a bubblewrap sandbox
   (:mod:`rnncourse.grading.sandbox`): no network, read-only system, no view of the course,
   the gradebook or other students, a scratch HOME and working folder, memory and time limits;
3. **scored** by the grader outside the sandbox (:mod:`rnncourse.grading.runner`): a test cell
   passes when it ran to its end without an error and the integrity guard
   (:mod:`rnncourse.grading.guard`) found the checking functions untouched before and after it;
4. **recorded**: the result file first, then, for the whole run at once, the gradebook (written
   to a copy that replaces ``gradebook.db`` in one rename, so it is never half-written), the
   feedback pages and ``grades.csv`` (also replaced whole).

Statuses
--------

=====================  ====================================================================
``graded``             graded normally
``restored``           graded, after locked cells that had been edited or deleted were
                       restored from the source (the reason names them)
``timeout``            a cell ran past ``--cell-timeout`` (it was stopped, the rest was
                       graded) or the notebook past ``--timeout`` (tests after it score 0)
``memory``             the notebook ran out of its ``--memory``
``kernel_died``        the Python process crashed or was killed; tests after it score 0
``exited``             the notebook ended Python (``sys.exit``, ``exit()``, ``os._exit``)
``tampered``           the notebook changed the checking machinery (comparison functions,
                       reference modules, IPython's error reporting); the affected tests
                       and every later test score 0
``missing``            no notebook in the student's folder
``wrong_filename``     a notebook under another name (rename it and run again)
``empty``              an empty file or a notebook without cells
``invalid_json``       not JSON (a truncated upload, another file type)
``invalid_notebook``   JSON, but not a notebook (or over ``--max-size``)
``error``              the grader itself failed (the kernel did not start); not written to
                       the gradebook, and retried on the next run
=====================  ====================================================================

In every case the score counts exactly the tests that passed; the rest of the class is graded
as usual.

Re-running and interruptions
----------------------------

A run skips every student whose result is already in ``results/`` for the same submission
file, assignment source and limits, so running the same command again changes nothing, and a
run stopped by Ctrl-C, a closed terminal or a restart continues where it stopped (Ctrl-C also
writes the gradebook and ``grades.csv`` for the students already done). Replace a student's
file and run again to regrade only that student; ``--regrade`` regrades everyone.

What an instructor installs
---------------------------

``pip install "rnncourse[grade]"`` (from a checkout of the course repository: grading needs
``solutions/``) and **bubblewrap** from the system's packages: ``sudo apt-get install
bubblewrap`` (Debian, Ubuntu), ``sudo dnf install bubblewrap`` (Fedora, RHEL),
``sudo pacman -S bubblewrap`` (Arch). It needs no root and no daemon, only user namespaces
(enabled by default on current distributions; on Ubuntu 24.04 and later the bubblewrap
package's AppArmor profile allows them). Without a working bubblewrap ``grade`` refuses to run;
``--unsafe-no-sandbox`` runs anyway with the time and memory limits and scratch folders but
with the students' code able to read and write whatever the instructor's account can, and to
use the network: use it only for notebooks you trust.

Limits: ``--cell-timeout`` (default 120 s), ``--timeout`` (900 s per notebook), ``--memory``
(4G of address space per kernel, of which about 0.7G is Python, torch and the kernel
themselves), ``--disk`` (256M each for the scratch HOME and /tmp). ``--workers`` defaults to
the number of CPUs; each kernel uses one thread.

Large deployments and containers
--------------------------------

For hundreds of students on a shared server, or where user namespaces are disabled, run the
same command inside a container, one container per grading run; the sandbox then nests inside
it, and the container adds cgroup limits (total memory, number of processes) that per-process
limits cannot give::

    docker run --rm --network none --memory 32g --pids-limit 4096 --cpus 8 \\
        --security-opt seccomp=unconfined --security-opt apparmor=unconfined \\
        -v "$PWD/course-repo:/course:ro" -v "$PWD/submissions.zip:/in/submissions.zip:ro" \\
        -v "$PWD/grades:/out" rnncourse-grader \\
        rnncourse grade 01-rnn-math /in/submissions.zip --out /out --workers 8

(an image with the course repository installed as above and ``bubblewrap``; the two
``unconfined`` options let bubblewrap create its namespaces inside Docker). Kubernetes jobs work
the same way, one job per assignment or per slice of the class.
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import csv
import hashlib
import io
import json
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat

from rnncourse.grading.assignments import AssignmentError, assignment_names, graded_cells, make_course, read_source
from rnncourse.grading.feedback import feedback_html
from rnncourse.grading.runner import Run, TestResult, exercise_titles, import_bindings, run_notebook, score_tests, test_cells
from rnncourse.grading.sandbox import (Limits, Scratch, add_time_limit_arguments, format_size, parse_size, sandbox_problem,
                                       unsandboxed_env)
from rnncourse.grading.submissions import Submission, SubmissionsError, collect

__all__ = ["add_arguments", "grade_class", "run"]

GRADER_VERSION = 1  # part of every result's key: a new grader regrades
CSV_FIELDS = ["student", "assignment", "score", "max_score", "status", "reason"]
COURSE_ID = "rnncourse"
ERROR_LOG = "errors.log"  # in OUT: every grader failure with its traceback
# CPython 3.11 is not thread-safe where it builds AST objects (python/cpython#106905), and
# nbgrader's preprocessors, its SQLAlchemy gradebook and nbformat's validation were not written for
# threads either: the worker threads take this lock around every use of them.
NOT_THREAD_SAFE = threading.Lock()


# --- files --------------------------------------------------------------------------------

def write_if_changed(path: Path, data: str | bytes) -> bool:
    """Write atomically (temporary file, then rename); leave the file alone when it is the same."""
    blob = data.encode("utf-8") if isinstance(data, str) else data
    if path.exists() and path.read_bytes() == blob:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as f:
        f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return True


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the course ---------------------------------------------------------------------------

@dataclass
class Context:
    """Everything a worker needs to grade one student."""

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
    bindings: list = None  # import_bindings(source), worked out once in the main thread

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.course / 'gradebook.db'}"

    def result_path(self, student: str) -> Path:
        return self.out / "results" / self.name / f"{student}.json"

    def feedback_path(self, student: str) -> Path:
        return self.out / "feedback" / self.name / f"{student}.html"

    def autograded_path(self, student: str) -> Path:
        return self.course / "autograded" / student / self.name / f"{self.name}.ipynb"


def prepare_course(course: Path, name: str) -> str:
    """Make (or check) the nbgrader course folder for ``name``; return the source notebook's text."""
    source_text = nbformat.writes(read_source(name)) + "\n"
    source_file = course / "source" / name / f"{name}.ipynb"
    if (course / "gradebook.db").exists() and source_file.exists():
        if source_file.read_text(encoding="utf-8") != source_text:
            raise AssignmentError(
                f"solutions/{name} has changed since {course} was made: grades would mix two versions "
                f"of the assignment. Grade into a new --out folder, or move {course.parent} away to start over.")
        return source_text
    make_course(course, [name])  # adds the assignment; the course's other assignments are left alone
    return source_text


def _quiet_log() -> logging.Logger:
    log = logging.getLogger("rnncourse.grading.nbgrader")
    log.setLevel(logging.ERROR)
    return log


def _source_of(cell) -> str:
    return "\n".join(line.rstrip() for line in cell.source.strip().splitlines())


def restore(nb: nbformat.NotebookNode, ctx: Context, student: str) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook to execute: ``nb`` with every locked cell and test restored from the source.

    Returns it and notes on what was restored (edited, deleted or duplicated locked cells).
    Raises ``ValueError`` when the nbgrader metadata is too broken to grade.
    """
    try:
        with NOT_THREAD_SAFE:
            return _restore(nbformat.from_dict(json.loads(json.dumps(nb))), ctx, student)
    except Exception as err:  # nbgrader's preprocessors on metadata a student has mangled
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"the notebook's grading metadata is damaged ({first}); it cannot be graded") from None


def _restore(nb: nbformat.NotebookNode, ctx: Context, student: str) -> tuple[nbformat.NotebookNode, list[str]]:
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells, OverwriteKernelspec

    release = nbformat.read(ctx.course / "release" / ctx.name / f"{ctx.name}.ipynb", as_version=4)
    source = nbformat.read(ctx.course / "source" / ctx.name / f"{ctx.name}.ipynb", as_version=4)
    notes = []
    by_id: dict[str, list] = {}
    for cell in nb.cells:
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if gid:
            by_id.setdefault(gid, []).append(cell)
    full = {c.metadata.get("nbgrader", {}).get("grade_id"): _source_of(c) for c in source.cells}
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("locked") or cell.cell_type != "code":
            continue
        gid, theirs = meta["grade_id"], by_id.get(meta["grade_id"], [])
        if not theirs:
            notes.append(f"{gid} (deleted)")
        elif len(theirs) > 1:
            notes.append(f"{gid} (duplicated)")
        elif theirs[0].cell_type != "code" or _source_of(theirs[0]) not in (_source_of(cell), full.get(gid)):
            notes.append(f"{gid} (edited)")  # the release's cell, or the source's with hidden tests, is fine
    resources = {"nbgrader": {"notebook": ctx.name, "assignment": ctx.name, "student": student, "db_url": ctx.db_url}}
    log = _quiet_log()
    for step in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells):
        nb, resources = step(log=log).preprocess(nb, resources)
    # put back the locked cells that are missing, each after the nearest cell before it in the source
    def grade_id(cell):
        return (cell.metadata.get("nbgrader") or {}).get("grade_id")

    present = {grade_id(c) for c in nb.cells} - {None}
    order = [grade_id(c) for c in source.cells]
    for k, cell in enumerate(source.cells):
        if not (cell.metadata.get("nbgrader") or {}).get("locked") or grade_id(cell) in present:
            continue
        previous = [g for g in order[:k] if g in present]
        at = 1 + next(j for j, c in enumerate(nb.cells) if grade_id(c) == previous[-1]) if previous else 0
        nb.cells.insert(at, nbformat.from_dict(json.loads(json.dumps(cell))))
        present.add(grade_id(cell))
    nb, resources = CheckCellMetadata(log=log).preprocess(nb, resources)
    return nb, notes


# --- one student --------------------------------------------------------------------------

def _where(nb: nbformat.NotebookNode, index: int | None) -> str:
    if index is None:
        return "the notebook"
    heading, number = "", 0
    for i, cell in enumerate(nb.cells[: index + 1]):
        if cell.cell_type == "code":
            number += 1
        elif cell.cell_type == "markdown":
            heading = next((l.lstrip("#").strip() for l in cell.source.splitlines() if l.startswith("#")), heading)
    return f"code cell {number}" + (f" (under “{heading}”)" if heading else "")


def decide(run: Run, tests: list[TestResult], notes: list[str], limits: Limits) -> tuple[str, str]:
    """The status and reason of an executed submission (see the module docstring)."""
    nb = run.nb
    lost = [t.title for t in tests if not t.ran]
    after = f"; the tests of {', '.join(dict.fromkeys(lost))} did not run" if lost else ""
    restored = f"locked cells restored from the source: {', '.join(notes)}" if notes else ""
    tampered = [t for t in tests if t.tampered]
    memory_cells = [i for i, c in run.cells.items() if c.status in ("error", "timeout") and
                    re.search(r"MemoryError|allocate", f"{c.ename}: {c.evalue}")]
    timeouts = [i for i, c in run.cells.items() if c.status == "timeout"]
    if run.fate == "start_failed":
        status, reason = "error", f"the grader could not run the notebook ({run.detail}); run grade again"
    elif tampered:
        first = tampered[0]
        what = first.tampered.split("; ")
        what = "; ".join(what[:3]) + (f"; and {len(what) - 3} more" if len(what) > 3 else "")
        status = "tampered"
        reason = f"the notebook changed the checking machinery ({what}); {first.title} and every later test score 0"
    elif run.fate == "exited" or run.exits:
        at = run.exits[0] if run.exits else run.stopped_at
        how = "calls sys.exit()" if run.cells.get(at) and run.cells[at].ename == "SystemExit" else "ends the Python process"
        status, reason = "exited", f"the notebook {how} in {_where(nb, at)}{after}"
    elif run.memory_exhausted:
        at = memory_cells[0] if memory_cells else run.stopped_at
        status = "memory"
        reason = f"the notebook ran out of its memory limit of {format_size(limits.memory)} in {_where(nb, at)}{after}"
    elif run.fate == "died":
        status, reason = "kernel_died", f"the Python process died in {_where(nb, run.stopped_at)}: {run.detail}{after}"
    elif run.fate == "timeout":
        status, reason = "timeout", f"{run.detail} (in {_where(nb, run.stopped_at)}){after}"
    elif timeouts:
        status = "timeout"
        reason = (f"{_where(nb, timeouts[0])} ran longer than {limits.cell_timeout:g} s and was stopped; "
                  "the rest of the notebook was graded")
    elif notes:
        return "restored", restored
    else:
        return "graded", ""
    return status, f"{reason}. Also: {restored}" if restored else reason


def _result(ctx: Context, sub: Submission, key: str, status: str, reason: str,
            tests: list[dict], seconds: float = 0.0) -> dict:
    return {
        "student": sub.student, "assignment": ctx.name, "status": status, "reason": reason,
        "score": sum(t["score"] for t in tests), "max_score": sum(ctx.points.values()),
        "tests": tests, "key": key, "submission": {"origin": sub.origin, "sha256": _sha256(sub.data or b"")},
        "sandbox": "bubblewrap" if ctx.sandboxed else "none (--unsafe-no-sandbox)",
        "limits": ctx.limits.as_dict(), "seconds": round(seconds, 1),
    }


def _zero_tests(ctx: Context, message: str) -> list[dict]:
    return [{"grade_id": gid, "title": ctx.titles[gid], "points": p, "score": 0.0, "passed": False,
             "message": message} for gid, p in ctx.points.items()]


def result_key(ctx: Context, sub: Submission) -> str:
    blob = json.dumps({"submission": _sha256(sub.data or b"") if sub.data is not None else sub.problem,
                       "reason": sub.reason, "source": ctx.source_sha, "limits": ctx.limits.as_dict(),
                       "sandboxed": ctx.sandboxed, "grader": GRADER_VERSION}, sort_keys=True)
    return _sha256(blob.encode())


def previous_result(ctx: Context, sub: Submission, key: str) -> dict | None:
    """The stored result when it is for exactly this submission and still complete."""
    path = ctx.result_path(sub.student)
    if ctx.regrade or not path.exists():
        return None
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    executed = old.get("status") not in ("missing", "wrong_filename", "empty", "invalid_json", "invalid_notebook")
    if old.get("key") != key or old.get("status") == "error" or (executed and not ctx.autograded_path(sub.student).exists()):
        return None
    return old


def grade_one(ctx: Context, sub: Submission) -> tuple[dict | None, bool]:
    """Grade one submission; return ``(result, reused)``; ``(None, False)`` when cancelled."""
    key = result_key(ctx, sub)
    old = previous_result(ctx, sub, key)
    if old is not None:
        return old, True
    started = time.monotonic()
    if sub.problem:
        result = _result(ctx, sub, key, sub.problem, sub.reason, _zero_tests(ctx, sub.reason))
    else:
        try:
            nb, notes = restore(sub.notebook, ctx, sub.student)
        except ValueError as err:
            result = _result(ctx, sub, key, "invalid_notebook", str(err), _zero_tests(ctx, str(err)))
        else:
            scratch = Scratch(Path(tempfile.mkdtemp(prefix="s-", dir=ctx.scratch_root)))
            try:
                env = None if ctx.sandboxed else unsandboxed_env(ctx.limits, scratch)
                run = run_notebook(nb, ctx.limits, scratch, sandboxed=ctx.sandboxed, env=env,
                                   cwd=None if ctx.sandboxed else scratch.work, stop=ctx.stop,
                                   bindings=ctx.bindings)
            finally:
                scratch.remove()
            if run.fate == "cancelled":
                return None, False
            scored = score_tests(run)
            by_id = {t.grade_id: t for t in scored}
            tests = []
            for gid, points in ctx.points.items():
                t = by_id.get(gid)
                tests.append({"grade_id": gid, "title": ctx.titles[gid], "points": points,
                              "score": t.score if t else 0.0, "passed": bool(t and t.passed),
                              "message": t.message if t else "this test is missing from the notebook"})
            status, reason = decide(run, scored, notes, ctx.limits)
            result = _result(ctx, sub, key, status, reason, tests, time.monotonic() - started)
            if status != "error":
                with NOT_THREAD_SAFE:
                    executed = nbformat.writes(run.nb) + "\n"
                write_if_changed(ctx.autograded_path(sub.student), executed)
                submitted = ctx.course / "submitted" / sub.student / ctx.name / f"{ctx.name}.ipynb"
                write_if_changed(submitted, sub.data)
    write_if_changed(ctx.result_path(sub.student), json.dumps(result, indent=1, sort_keys=True) + "\n")
    if result["status"] != "error":
        write_if_changed(ctx.feedback_path(sub.student), feedback_html(result))
    return result, False


# --- the whole class ----------------------------------------------------------------------

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
    results = [r for r in results if r["status"] != "error"]

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
    tmp = course / ".gradebook.db.tmp"
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
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, db)
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


def log_error(out: Path, student: str, name: str, text: str) -> None:
    """Append a grader failure (a traceback, or the reason) to ``OUT/errors.log``."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with open(out / ERROR_LOG, "a", encoding="utf-8") as f:
        f.write(f"--- {stamp} {name} {student}\n{text.rstrip()}\n\n")


def make_scratch_root() -> Path:
    """A new temporary folder for this run's scratch; removes those of runs that were killed."""
    for old in Path(tempfile.gettempdir()).glob("rnncourse-grade-*"):
        try:
            os.kill(int((old / "owner.pid").read_text()), 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)
        except (OSError, ValueError):
            pass  # not ours to judge (another user's, or being created right now)
    root = Path(tempfile.mkdtemp(prefix="rnncourse-grade-"))
    (root / "owner.pid").write_text(str(os.getpid()))
    return root


def remove_scratch(root: Path, attempts: int = 20) -> str | None:
    """Remove this run's scratch folder; ``None`` when it is gone, else what stood in the way.

    A sandbox that is still being torn down could write into it while it is removed, so try again
    for a few seconds before leaving it to the next run's clean-up (and saying so)."""
    errors: list[str] = []
    for _ in range(attempts):
        errors.clear()
        shutil.rmtree(root, onerror=lambda _f, path, info: errors.append(f"{path}: {info[1]}"))
        if not root.exists():
            return None
        time.sleep(0.25)
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*"))[:20] if root.exists() else []
    return f"{'; '.join(errors[:5]) or 'no error reported'}; still there: {left}"


def grade_class(name: str, submissions: Path, out: Path, *, workers: int, limits: Limits, sandboxed: bool,
                course: Path | None = None, regrade: bool = False, max_bytes: int = 50 * 2**20,
                echo=print) -> dict:
    """Grade every submission of ``name``; return a summary ``{"results": [...], "interrupted": bool, ...}``."""
    if name not in assignment_names():
        raise AssignmentError(f"there is no assignment {name!r}; the assignments are: {', '.join(assignment_names())}")
    out = out.resolve()
    course = (course or out / "course").resolve()
    subs = collect(submissions, name, max_bytes)
    if not subs:
        raise SubmissionsError(f"{submissions} holds no submissions")
    source_text = prepare_course(course, name)
    source = nbformat.reads(source_text, as_version=4)
    titles_by_index = exercise_titles(source)
    titles = {source.cells[i].metadata.nbgrader["grade_id"]: titles_by_index[i] for i in test_cells(source)}
    points = {c.grade_id: c.points for c in graded_cells(source) if c.kind == "tests"}
    stop = threading.Event()
    scratch_root = make_scratch_root()
    ctx = Context(name, out, course, limits, sandboxed, scratch_root, _sha256(source_text.encode()),
                  titles, points, stop, regrade, import_bindings(source))
    results: dict[str, dict] = {}
    interrupted = False
    started = time.monotonic()
    echo(f"Grading {len(subs)} submissions of {name} with {workers} workers "
         f"({'bubblewrap sandbox' if sandboxed else 'NO SANDBOX'}; {limits.describe()})")
    pool = futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade")
    try:
        pending = {pool.submit(grade_one, ctx, sub): sub for sub in subs}
        done_count = 0
        while pending:
            finished, _ = futures.wait(list(pending), timeout=0.5, return_when=futures.FIRST_COMPLETED)
            for future in finished:
                sub = pending.pop(future)
                try:
                    result, reused = future.result()
                except Exception as err:  # a grader bug must not stop the class
                    reason = f"the grader failed: {type(err).__name__}: {err}"
                    result, reused = _result(ctx, sub, "", "error", reason, _zero_tests(ctx, "not graded")), False
                    write_if_changed(ctx.result_path(sub.student), json.dumps(result, indent=1, sort_keys=True) + "\n")
                    log_error(out, sub.student, name, "".join(traceback.format_exception(err)))
                else:
                    if result is None:
                        continue
                    if result["status"] == "error":
                        log_error(out, sub.student, name, result["reason"])
                results[sub.student] = result
                done_count += 1
                note = "  (unchanged)" if reused else f"  {result['seconds']:.1f} s"
                why = f"  {result['reason']}" if result["status"] == "error" else ""
                echo(f"[{done_count:>3}/{len(subs)}] {sub.student:<24} {result['status']:<16} "
                     f"{result['score']:g}/{result['max_score']:g}{note}{why}")
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
        echo("Interrupted: stopping the running notebooks and keeping the grades already done ...")
        pool.shutdown(wait=True, cancel_futures=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        problem = remove_scratch(scratch_root)
        if problem:
            echo(f"Warning: could not remove the scratch folder {scratch_root} ({problem}); "
                 "the next grading run removes it.")
    stored = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "results" / name).glob("*.json"))]
    changed = sync_gradebook(course, stored)  # every stored result, also those of earlier runs
    for result in stored:  # feedback pages are rebuilt from the results (cheap, idempotent)
        if result["status"] != "error":
            write_if_changed(ctx.feedback_path(result["student"]), feedback_html(result))
    csv_path = write_grades_csv(out)
    counts: dict[str, int] = {}
    for r in results.values():
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    echo(f"{len(results)} of {len(subs)} graded in {time.monotonic() - started:.0f} s: "
         + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    echo(f"Grades: {csv_path}\nFeedback: {out / 'feedback' / name}\nGradebook: {course / 'gradebook.db'}"
         f" ({changed} students updated)")
    if "error" in counts:
        echo(f"The grader failed on {counts['error']} submissions (not stored as grades; run the same command "
             f"again to retry them). Tracebacks: {out / ERROR_LOG}")
    if interrupted:
        echo(f"{len(subs) - len(results)} submissions are left: run the same command again to continue.")
    return {"results": list(results.values()), "interrupted": interrupted, "total": len(subs)}


# --- the command --------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="the assignment, a folder name under solutions/ (e.g. 01-rnn-math)")
    parser.add_argument("submissions", type=Path,
                        help="a folder with one sub-folder (or one LMS-named file) per student, or a zip of them")
    parser.add_argument("--out", type=Path, required=True,
                        help="where grades.csv, feedback/, results/ and the nbgrader course/ go")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    parser.add_argument("--workers", type=int, default=cpus, help="students graded at once (default: the CPUs, %(default)s)")
    add_time_limit_arguments(parser)
    parser.add_argument("--memory", default="4G", help="address-space limit per notebook, e.g. 1500M, 4G (default 4G)")
    parser.add_argument("--disk", default="256M", help="size of the scratch HOME and /tmp each (default 256M)")
    parser.add_argument("--max-size", default="50M", help="largest notebook file accepted (default 50M)")
    parser.add_argument("--course", type=Path, help="the nbgrader course folder (default: OUT/course)")
    parser.add_argument("--regrade", action="store_true", help="regrade everyone, ignoring stored results")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="grade without bubblewrap: students' code can read and write your files and "
                             "use the network. Only for trusted notebooks")


def run(args: argparse.Namespace) -> int:
    try:
        limits = Limits(cell_timeout=args.cell_timeout, timeout=args.timeout,
                        memory=parse_size(args.memory), disk=parse_size(args.disk) or Limits.disk)
        max_bytes = parse_size(args.max_size) or 50 * 2**20
    except ValueError as err:
        print(f"rnncourse grade: {err}", file=sys.stderr)
        return 2
    sandboxed = not args.unsafe_no_sandbox
    if sandboxed:
        problem = sandbox_problem()
        if problem:
            print(f"rnncourse grade: refusing to grade without a sandbox. {problem}\n"
                  "To grade anyway, with the students' code running as you, with your files and the "
                  "network within its reach, pass --unsafe-no-sandbox.", file=sys.stderr)
            return 2
    else:
        print("WARNING: grading WITHOUT a sandbox (--unsafe-no-sandbox): the submissions' code runs with "
              "your permissions and network access.", file=sys.stderr)
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a shutdown stops like Ctrl-C
    try:
        summary = grade_class(args.assignment, args.submissions, args.out, workers=max(1, args.workers),
                              limits=limits, sandboxed=sandboxed, course=args.course, regrade=args.regrade,
                              max_bytes=max_bytes)
    except (AssignmentError, SubmissionsError) as err:
        print(f"rnncourse grade: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # while reading the submissions or making the course
        print("rnncourse grade: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    if summary["interrupted"]:
        return 130
    return 1 if any(r["status"] == "error" for r in summary["results"]) else 0
