"""Grading a class: every submission restored, run in its own sandboxed kernel, scored and
recorded, several at a time.

:func:`grade_class` is what ``rnncourse grade`` runs (:mod:`rnncourse.grading.grade_command`), in
four steps: :func:`open_class` (course, context, roster), :func:`grade_all` (the workers),
:func:`record_class` (gradebook, feedback, ``grades.csv``, LMS file) and :func:`report_class`.
:func:`grade_notebooks` grades a few notebooks the same way and returns each exercise's points.
The steps live in :mod:`~rnncourse.grading.restore`, :mod:`~rnncourse.grading.runner`,
:mod:`~rnncourse.grading.verdict` and :mod:`~rnncourse.grading.records`; the instructor's manual
is the book's instructor page.

The worker threads only wait on kernels and write files: anything that is not thread-safe in
CPython 3.11 (building AST objects, nbgrader, nbformat's validation) is done once per class in
the main thread or under :data:`~rnncourse.grading.restore.NOT_THREAD_SAFE`.
"""

from __future__ import annotations

import concurrent.futures as futures
import json
import os
import shutil
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat

from rnncourse.runtime.files import write_if_changed
from rnncourse.grading.assignments import AssignmentError, assignment_names, graded_cells
from rnncourse.grading.cells import exercise_titles, grade_id, manual_title
from rnncourse.grading.exports import grade_rows, write_grades_csv, write_lms
from rnncourse.grading.gradebook import read_manual, sync_gradebook
from rnncourse.grading.records import (ERROR_LOG, Context, annotate, log_error, new_result, previous_result,
                                       result_key, sha256, store_result, write_feedback, write_timestamp,
                                       zero_tests)
from rnncourse.grading.roster import Roster, match_roster
from rnncourse.grading.shards import merge_shards
from rnncourse.grading.restore import NOT_THREAD_SAFE, prepare_course, restore
from rnncourse.grading.runner import import_bindings, run_notebook
from rnncourse.grading.scoring import score_tests
from rnncourse.grading.sandbox import Limits, Scratch, sandbox_problem, unsandboxed_env
from rnncourse.grading.outcomes import Status
from rnncourse.grading.verdict import decide
from rnncourse.grading.submissions import Submission, SubmissionsError, collect
from rnncourse.runtime.processes import pid_alive

__all__ = ["ClassOptions", "GradingError", "grade_class", "grade_notebooks"]


class GradingError(Exception):
    """The grader itself failed on a notebook (status ``error``): not the student's doing."""


def grade_one(ctx: Context, sub: Submission) -> tuple[dict | None, bool]:
    """Grade one submission; return ``(result, reused)``; ``(None, False)`` when cancelled."""
    key = result_key(ctx, sub)
    old = previous_result(ctx, sub, key)
    if old is not None:
        return old, True
    started = time.monotonic()
    if sub.problem:
        result = new_result(ctx, sub, key, sub.problem, sub.reason, zero_tests(ctx, sub.reason))
    else:
        try:
            nb, notes = restore(sub.notebook, ctx.course, ctx.name, sub.student)
        except ValueError as err:
            result = new_result(ctx, sub, key, Status.INVALID_NOTEBOOK, str(err), zero_tests(ctx, str(err)))
        else:
            scratch = Scratch(Path(tempfile.mkdtemp(prefix="s-", dir=ctx.scratch_root)))
            try:
                env = None if ctx.sandboxed else unsandboxed_env(ctx.limits, scratch)
                run = run_notebook(nb, ctx.limits, scratch, sandboxed=ctx.sandboxed, env=env,
                                   cwd=None if ctx.sandboxed else scratch.work, stop=ctx.stop,
                                   bindings=ctx.bindings)
            finally:
                scratch.remove()
            if run.fate == Status.CANCELLED:
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
            result = new_result(ctx, sub, key, status, reason, tests, time.monotonic() - started)
            if status != Status.ERROR:
                with NOT_THREAD_SAFE:
                    executed = nbformat.writes(run.nb) + "\n"
                write_if_changed(ctx.autograded_path(sub.student), executed)
                write_if_changed(ctx.submitted_path(sub.student), sub.data)
    store_result(ctx, result)
    return result, False


def make_scratch_root() -> Path:
    """A new temporary folder for this run's scratch; removes those of runs that were killed."""
    for old in Path(tempfile.gettempdir()).glob("rnncourse-grade-*"):
        try:
            owner = int((old / "owner.pid").read_text())
        except (OSError, ValueError):
            continue  # not ours to judge (another user's, or being created right now)
        if not pid_alive(owner):
            shutil.rmtree(old, ignore_errors=True)
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


@dataclass
class ClassOptions:
    """Who is in the class and when the assignment was due (see the instructor page)."""

    roster: Roster | None = None
    due: datetime | None = None
    times: dict[str, datetime] = field(default_factory=dict)
    lms: str | None = None  # "canvas" or "moodle": also write that LMS's import file
    roster_only: bool = False  # grade only the students on the roster (one shard of a class)
    merge: list[Path] = field(default_factory=list)  # shards' --out folders to merge first


def open_class(name: str, submissions: Path, out: Path, course: Path | None, limits: Limits, sandboxed: bool,
               regrade: bool, max_bytes: int, solutions: Path | None,
               options: ClassOptions) -> tuple[Context, list[Submission], list[str]]:
    """Step 1: the course folder, the context every worker shares, the submissions (matched to
    the roster) and the submitters that are not on the roster."""
    if name not in assignment_names(solutions):
        raise AssignmentError(f"there is no assignment {name!r}; the assignments are: "
                              f"{', '.join(assignment_names(solutions))}")
    out = out.resolve()
    course = (course or out / "course").resolve()
    subs = collect(submissions, name, max_bytes)
    if not subs and not options.roster:
        raise SubmissionsError(f"{submissions} holds no submissions")
    unknown = match_roster(subs, options.roster) if options.roster else []
    if options.roster_only:
        subs = [s for s in subs if s.student not in unknown]
    source_text = prepare_course(course, name, solutions)
    if options.merge:
        merge_shards(out, course, options.merge, name)
    source = nbformat.reads(source_text, as_version=4)
    titles = {grade_id(source.cells[i]): title for i, title in exercise_titles(source).items()}
    points = {c.grade_id: c.points for c in graded_cells(source) if c.kind == "tests"}
    manual = {c.grade_id: {"title": manual_title(source, c.grade_id), "points": c.points}
              for c in graded_cells(source) if c.kind == "manual"}
    ctx = Context(name, out, course, limits, sandboxed, make_scratch_root(), sha256(source_text.encode()),
                  titles, points, threading.Event(), regrade, import_bindings(source),  # ast: here, never in a worker
                  manual, options.roster, options.due, options.times, options.roster_only)
    return ctx, subs, unknown


def grade_all(ctx: Context, subs: list[Submission], workers: int, echo) -> tuple[dict[str, dict], bool]:
    """Step 2: grade every submission on ``workers`` threads; ``(results by student, interrupted)``."""
    results: dict[str, dict] = {}
    pool = futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade")
    try:
        pending = {pool.submit(grade_one, ctx, sub): sub for sub in subs}
        while pending:
            finished, _ = futures.wait(list(pending), timeout=0.5, return_when=futures.FIRST_COMPLETED)
            for future in finished:
                sub = pending.pop(future)
                result, reused = _outcome(ctx, sub, future)
                if result is None:
                    continue
                store_result(ctx, annotate(ctx, sub, result))
                write_timestamp(ctx, result)
                results[sub.student] = result
                note = "  (unchanged)" if reused else f"  {result['seconds']:.1f} s"
                why = f"  {result['reason']}" if result["status"] == Status.ERROR else ""
                echo(f"[{len(results):>3}/{len(subs)}] {sub.student:<24} {result['status']:<16} "
                     f"{result['score']:g}/{result['max_score']:g}{note}{why}")
    except KeyboardInterrupt:
        ctx.stop.set()
        echo("Interrupted: stopping the running notebooks and keeping the grades already done ...")
        pool.shutdown(wait=True, cancel_futures=True)
        return results, True
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        problem = remove_scratch(ctx.scratch_root)
        if problem:
            echo(f"Warning: could not remove the scratch folder {ctx.scratch_root} ({problem}); "
                 "the next grading run removes it.")
    return results, False


def _outcome(ctx: Context, sub: Submission, future) -> tuple[dict | None, bool]:
    """A finished worker's ``(result, reused)``; a grader bug becomes an ``error`` result."""
    try:
        result, reused = future.result()
    except Exception as err:  # a grader bug must not stop the class
        reason = f"the grader failed: {type(err).__name__}: {err}"
        result, reused = new_result(ctx, sub, "", Status.ERROR, reason, zero_tests(ctx, "not graded")), False
        log_error(ctx.out, sub.student, ctx.name, "".join(traceback.format_exception(err)))
        return result, reused
    if result is not None and result["status"] == Status.ERROR:
        log_error(ctx.out, sub.student, ctx.name, result["reason"])
    return result, reused


def record_class(ctx: Context, lms: str | None) -> dict:
    """Step 3: from every stored result (this run's and earlier ones): the gradebook, the
    feedback pages, ``grades.csv`` and the LMS file; what was written, to report."""
    stored = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ctx.out / "results").glob("*/*.json"))]
    changed = sync_gradebook(ctx.course, stored)
    by_hand = read_manual(ctx.course, stored)
    for result in stored:  # feedback pages are rebuilt from the results (cheap, idempotent)
        if result["assignment"] == ctx.name:
            write_feedback(ctx, result, by_hand.get((result["assignment"], result["student"])))
    rows = grade_rows(stored, by_hand)
    written = {"csv": write_grades_csv(ctx.out, rows, stored), "changed": changed, "lms": None, "problems": []}
    if lms:
        written["lms"], written["problems"] = write_lms(ctx.out, lms, rows)
    written["waiting"] = sum(1 for row in rows if row["needs_manual_grading"] and row["assignment"] == ctx.name)
    return written


def report_class(ctx: Context, results: dict[str, dict], total: int, seconds: float, written: dict,
                 unknown: list[str], interrupted: bool, echo) -> None:
    """Step 4: what the instructor reads at the end of a run."""
    counts: dict[str, int] = {}
    for r in results.values():
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    late = sorted(s for s, r in results.items() if r.get("late"))
    echo(f"{len(results)} of {total} graded in {seconds:.0f} s: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if late:
        echo(f"Late: {len(late)} ({', '.join(late[:10])}{' ...' if len(late) > 10 else ''}); minutes late are in grades.csv")
    if unknown:
        done = "left to the other shards" if ctx.roster_only else "graded under the id found in the download"
        echo(f"Not on the roster ({done}): {', '.join(unknown)}")
    if written["waiting"]:
        echo(f"Written answers to grade by hand in formgrader: {written['waiting']} submissions "
             "(then run this command again for the final grades.csv and LMS file)")
    echo(f"Grades: {written['csv']}\nFeedback: {ctx.out / 'feedback' / ctx.name}\nGradebook: {ctx.course / 'gradebook.db'}"
         f" ({written['changed']} student{'' if written['changed'] == 1 else 's'} updated)")
    if written["lms"]:
        echo(f"LMS import file: {written['lms']}" + "".join(f"\n  note: {p}" for p in written["problems"]))
    if Status.ERROR in counts:
        echo(f"The grader failed on {counts[Status.ERROR]} submissions (not stored as grades; run the same "
             f"command again to retry them). Tracebacks: {ctx.out / ERROR_LOG}")
    if interrupted:
        echo(f"{total - len(results)} submissions are left: run the same command again to continue.")


def grade_class(name: str, submissions: Path, out: Path, *, workers: int, limits: Limits, sandboxed: bool,
                course: Path | None = None, regrade: bool = False, max_bytes: int = 50 * 2**20,
                solutions: Path | None = None, options: ClassOptions | None = None, echo=print) -> dict:
    """Grade every submission of ``name``; return ``{"results": [...], "interrupted": bool, "total": n}``.

    ``submissions``: a folder or an LMS zip (:func:`~rnncourse.grading.submissions.collect`);
    ``out``: where ``grades.csv``, ``results/``, ``feedback/``, ``errors.log`` and the nbgrader
    ``course/`` go; ``solutions``: the folder of assignment sources (default: the repository's);
    ``options``: the roster, the due date and submission times, the LMS file to write.
    """
    options = options or ClassOptions()
    ctx, subs, unknown = open_class(name, submissions, out, course, limits, sandboxed, regrade, max_bytes,
                                    solutions, options)
    started = time.monotonic()
    echo(f"Grading {len(subs)} submissions of {name} with {workers} workers "
         f"({'bubblewrap sandbox' if sandboxed else 'NO SANDBOX'}; {limits.describe()})")
    results, interrupted = grade_all(ctx, subs, workers, echo)
    written = record_class(ctx, options.lms)
    report_class(ctx, results, len(subs), time.monotonic() - started, written, unknown, interrupted, echo)
    return {"results": list(results.values()), "interrupted": interrupted, "total": len(subs)}


def grade_notebooks(name: str, notebooks: dict[str, Path | nbformat.NotebookNode], *,
                    limits: Limits | None = None, sandboxed: bool | None = None, workers: int = 2,
                    solutions: Path | None = None, out: Path | None = None) -> dict[str, dict[str, float]]:
    """Grade ``{student: notebook}`` of assignment ``name`` as ``rnncourse grade`` grades a class;
    return ``{student: {grade_id: points earned}}`` for every test cell.

    A notebook is a path or an nbformat notebook. ``sandboxed`` defaults to bubblewrap when it
    works here; ``out`` (default: a temporary folder) keeps the results, feedback and course.
    A grader failure raises :class:`GradingError` (a student's own failure is a score of 0)::

        scores = grade_notebooks("01-rnn-math", {"wrong": nb})
        assert scores["wrong"]["ex2-tests"] == 0
    """
    limits = limits or Limits(cell_timeout=120, timeout=900, memory=None)
    sandboxed = sandbox_problem() is None if sandboxed is None else sandboxed
    with tempfile.TemporaryDirectory(prefix="rnncourse-grade-notebooks-") as tmp:
        for student, notebook in notebooks.items():
            target = Path(tmp) / "class" / student / f"{name}.ipynb"
            target.parent.mkdir(parents=True)
            if isinstance(notebook, dict):
                target.write_text(nbformat.writes(notebook), encoding="utf-8")
            else:
                shutil.copyfile(notebook, target)
        summary = grade_class(name, Path(tmp) / "class", out or Path(tmp) / "out", workers=workers, limits=limits,
                              sandboxed=sandboxed, solutions=solutions, regrade=True, echo=lambda _line: None)
    failed = [f"{r['student']}: {r['reason']}" for r in summary["results"] if r["status"] == Status.ERROR]
    if failed:
        raise GradingError("the grader failed on " + "; ".join(failed))
    return {r["student"]: {t["grade_id"]: t["score"] for t in r["tests"]} for r in summary["results"]}
