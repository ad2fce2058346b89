"""Grading a class: every submission restored, run in its own sandboxed kernel, scored and
recorded, several at a time.

:func:`grade_class` is what ``rnncourse grade`` runs (:mod:`rnncourse.grading.grade_command`);
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
from pathlib import Path

import nbformat

from rnncourse.runtime.files import write_if_changed
from rnncourse.grading.assignments import AssignmentError, assignment_names, graded_cells
from rnncourse.grading.cells import exercise_titles, grade_id
from rnncourse.grading.records import (ERROR_LOG, Context, log_error, new_result, previous_result, result_key, sha256,
                                       store_result, sync_gradebook, write_feedback, write_grades_csv, zero_tests)
from rnncourse.grading.restore import NOT_THREAD_SAFE, prepare_course, restore
from rnncourse.grading.runner import import_bindings, run_notebook
from rnncourse.grading.scoring import score_tests
from rnncourse.grading.sandbox import Limits, Scratch, sandbox_problem, unsandboxed_env
from rnncourse.grading.outcomes import Status
from rnncourse.grading.verdict import decide
from rnncourse.grading.submissions import Submission, SubmissionsError, collect
from rnncourse.runtime.processes import pid_alive

__all__ = ["GradingError", "grade_class", "grade_notebooks"]


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


def grade_class(name: str, submissions: Path, out: Path, *, workers: int, limits: Limits, sandboxed: bool,
                course: Path | None = None, regrade: bool = False, max_bytes: int = 50 * 2**20,
                solutions: Path | None = None, echo=print) -> dict:
    """Grade every submission of ``name``; return ``{"results": [...], "interrupted": bool, "total": n}``.

    ``submissions``: a folder or an LMS zip (:func:`~rnncourse.grading.submissions.collect`);
    ``out``: where ``grades.csv``, ``results/``, ``feedback/``, ``errors.log`` and the nbgrader
    ``course/`` go; ``solutions``: the folder of assignment sources (default: the repository's).
    """
    if name not in assignment_names(solutions):
        raise AssignmentError(f"there is no assignment {name!r}; the assignments are: "
                              f"{', '.join(assignment_names(solutions))}")
    out = out.resolve()
    course = (course or out / "course").resolve()
    subs = collect(submissions, name, max_bytes)
    if not subs:
        raise SubmissionsError(f"{submissions} holds no submissions")
    source_text = prepare_course(course, name, solutions)
    source = nbformat.reads(source_text, as_version=4)
    titles = {grade_id(source.cells[i]): title for i, title in exercise_titles(source).items()}
    points = {c.grade_id: c.points for c in graded_cells(source) if c.kind == "tests"}
    stop = threading.Event()
    scratch_root = make_scratch_root()
    ctx = Context(name, out, course, limits, sandboxed, scratch_root, sha256(source_text.encode()),
                  titles, points, stop, regrade, import_bindings(source))  # ast: here, never in a worker
    results: dict[str, dict] = {}
    interrupted = False
    started = time.monotonic()
    echo(f"Grading {len(subs)} submissions of {name} with {workers} workers "
         f"({'bubblewrap sandbox' if sandboxed else 'NO SANDBOX'}; {limits.describe()})")
    pool = futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade")
    try:
        pending = {pool.submit(grade_one, ctx, sub): sub for sub in subs}
        while pending:
            finished, _ = futures.wait(list(pending), timeout=0.5, return_when=futures.FIRST_COMPLETED)
            for future in finished:
                sub = pending.pop(future)
                try:
                    result, reused = future.result()
                except Exception as err:  # a grader bug must not stop the class
                    reason = f"the grader failed: {type(err).__name__}: {err}"
                    result, reused = new_result(ctx, sub, "", Status.ERROR, reason, zero_tests(ctx, "not graded")), False
                    store_result(ctx, result)
                    log_error(out, sub.student, name, "".join(traceback.format_exception(err)))
                else:
                    if result is None:
                        continue
                    if result["status"] == Status.ERROR:
                        log_error(out, sub.student, name, result["reason"])
                results[sub.student] = result
                note = "  (unchanged)" if reused else f"  {result['seconds']:.1f} s"
                why = f"  {result['reason']}" if result["status"] == Status.ERROR else ""
                echo(f"[{len(results):>3}/{len(subs)}] {sub.student:<24} {result['status']:<16} "
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
        write_feedback(ctx, result)
    csv_path = write_grades_csv(out)
    counts: dict[str, int] = {}
    for r in results.values():
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    echo(f"{len(results)} of {len(subs)} graded in {time.monotonic() - started:.0f} s: "
         + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    echo(f"Grades: {csv_path}\nFeedback: {out / 'feedback' / name}\nGradebook: {course / 'gradebook.db'}"
         f" ({changed} students updated)")
    if Status.ERROR in counts:
        echo(f"The grader failed on {counts[Status.ERROR]} submissions (not stored as grades; run the same "
             f"command again to retry them). Tracebacks: {out / ERROR_LOG}")
    if interrupted:
        echo(f"{len(subs) - len(results)} submissions are left: run the same command again to continue.")
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
