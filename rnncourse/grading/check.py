"""``rnncourse check NOTEBOOK``: a learner's self-check of an exercise notebook.

Runs the notebook from the top in a fresh kernel of this Python environment (never a stale
kernelspec: the kernel is started from this interpreter, and ``JUPYTER_PATH`` is pinned with
:func:`rnncourse.grading.kernel.pinned_kernel_env`), in the notebook's own folder, with a time
limit per cell and for the whole notebook, then prints for each graded exercise its points,
passed, failed (with the message of the failing check) or "not answered yet"; the total of the
visible tests; and a reminder that the hidden tests of the real grade are not part of a
self-check. The exit status is 0 only when every visible test passes and nothing was put back.

It warns as ``grade`` judges (:mod:`rnncourse.grading.manifest`): a file name ``grade`` refuses,
and test cells that were deleted or edited, which are put back as released and run (as the
grader does), named with the points at stake; errors are located by cell and heading.

It needs nothing but the notebook: no gradebook, no ``solutions/``, no sandbox (it runs the
learner's own code as the learner). Test cells are found by their nbgrader metadata and scored
exactly as ``rnncourse grade`` scores them (:mod:`rnncourse.grading.runner`).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from rnncourse.grading.cells import test_cells
from rnncourse.grading.feedback import format_points
from rnncourse.grading.kernel import pinned_kernel_env
from rnncourse.grading.manifest import KEY as MANIFEST_KEY, restore_locked, unanswered_tests
from rnncourse.grading.runner import run_notebook
from rnncourse.grading.sandbox import Limits, Scratch, add_time_limit_arguments, parse_size
from rnncourse.grading.scoring import score_tests
from rnncourse.grading.outcomes import Run, Status, TestResult
from rnncourse.grading.submissions import notebook_name
from rnncourse.grading.verdict import where
from rnncourse.runtime.threads import choose_threads

__all__ = ["Checked", "add_arguments", "check_notebook", "judge_file", "report", "run"]

HIDDEN_NOTE = ("Hidden tests are not part of a self-check: the grade also runs hidden tests with other "
               "shapes and seeds, so it can be lower than this.")


@dataclass
class Checked:
    """A self-check's findings: the run, its scored tests and what ``grade`` would say first."""

    run: Run
    results: list[TestResult]
    warnings: list[str] = field(default_factory=list)  # what grade judges differently: say it first
    unanswered: set[int] = field(default_factory=set)  # test cells whose answers are untouched


def judge_file(path: Path, nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, list[str]]:
    """The notebook as ``grade`` will run it (locked cells as released) and the warnings that go
    with it: a file name ``grade`` refuses, test cells put back (with the points at stake)."""
    manifest = nb.metadata.get(MANIFEST_KEY)
    if not manifest:
        return nb, ["Note: this notebook does not say which assignment it is (it was made before the "
                    "self-check knew, or its metadata was removed): deleted or edited test cells "
                    "cannot be put back, so the points below may differ from the grade."]
    warnings = []
    name = manifest["assignment"]
    if not notebook_name(name).match(path.name):
        warnings.append(f"rnncourse grade will refuse this file (status wrong_filename): it must be named "
                        f"{name}.ipynb. Rename {path.name!r} before you hand it in.")
    nb, restored = restore_locked(nb, manifest)
    for line in restored.at_stake:
        warnings.append(f"{line}; it was put back as released and run, as the grader will.")
    other = [n for n in restored.notes if not any(n.startswith(f"{e['grade_id']} ") and "points" in e
                                                  for e in manifest["locked"])]
    if other:
        warnings.append(f"Locked cells put back as released, as the grader will: {', '.join(other)}.")
    return nb, warnings


def check_notebook(path: Path, limits: Limits) -> Checked:
    """Execute ``path`` in a fresh kernel, as ``grade`` would see it, and score its visible tests."""
    nb, warnings = judge_file(path, nbformat.read(path, as_version=4))
    with tempfile.TemporaryDirectory(prefix="rnncourse-check-") as tmp:
        scratch = Scratch(Path(tmp))
        env = pinned_kernel_env()
        # torch in the kernel uses the thread count every page uses (rnncourse.runtime.threads).
        env["OMP_NUM_THREADS"] = str(choose_threads()[0])
        run = run_notebook(nb, limits, scratch, sandboxed=False, grading=False, cwd=path.resolve().parent,
                           env=env)
    manifest = nb.metadata.get(MANIFEST_KEY)
    unanswered = unanswered_tests(run.nb, manifest) if manifest else set()
    return Checked(run, score_tests(run), warnings, unanswered)


def _table(checked: Checked, width: int) -> list[str]:
    """One row per exercise (long titles wrap, never cut) and the failing check's message."""
    title_width = min(max((len(r.title) for r in checked.results), default=8), 60)
    lines = [f"  {'Exercise':<{title_width}}  {'Points':>9}  Result"]
    for r in checked.results:
        title = textwrap.wrap(r.title, title_width, break_on_hyphens=False) or [""]
        unanswered = r.index in checked.unanswered and not r.passed
        verdict = "passed" if r.passed else "not answered yet" if unanswered else "FAILED"
        lines.append(f"  {title[0]:<{title_width}}  {format_points(r.score):>4} / {format_points(r.points):<2}  {verdict}")
        lines += [f"  {more}" for more in title[1:]]
        if not r.passed and not unanswered:
            for paragraph in r.message.splitlines():
                lines += textwrap.wrap(paragraph, width=width - 6, initial_indent="      ",
                                       subsequent_indent="      ") or [""]
    return lines


def _in_cell(evalue: str) -> str:
    """An error's first line with IPython's file name for the cell (``(710119118.py, line 5)``)
    said as the student sees it (``(line 5 of the cell)``)."""
    first = evalue.splitlines()[0] if evalue else ""
    return re.sub(r"\(\S+\.py, line (\d+)\)", r"(line \1 of the cell)", first)


def report(path: Path, checked: Checked, width: int = 100) -> str:
    """The text ``rnncourse check`` prints."""
    run, results = checked.run, checked.results
    lines = [f"rnncourse check: {path.name} (visible tests only)", ""]
    for warning in checked.warnings:
        label = "" if warning.startswith("Note:") else "Warning: "
        lines += textwrap.wrap(f"{label}{warning}", width=width, subsequent_indent="  ",
                               break_on_hyphens=False) + [""]  # never split a file name at its "-"
    lines += _table(checked, width)
    earned, total = sum(r.score for r in results), sum(r.points for r in results)
    lines += ["", f"Visible tests: {format_points(earned)} of {format_points(total)} points"
                  f" ({sum(r.passed for r in results)} of {len(results)} exercises pass)."]
    if checked.unanswered:
        lines.append(f"{len(checked.unanswered)} exercises are not answered yet (their answer cells are as released).")
    tests = set(test_cells(run.nb))
    errors = [(i, c) for i, c in run.cells.items() if c.status == Status.ERROR and i not in tests]
    if errors:
        lines.append("Cells outside the tests that raised an error (fix these first):")
        for i, c in errors[:5]:
            lines.append(f"  {where(run.nb, i)}: {c.ename}: {_in_cell(c.evalue)}".rstrip(": "))
    if run.fate != Status.COMPLETED:
        lines.append(f"The run ended early: {run.detail} (in {where(run.nb, run.stopped_at)}).")
    lines.append(HIDDEN_NOTE)
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", type=Path, help="the exercise notebook, e.g. 01-rnn-math.ipynb")
    add_time_limit_arguments(parser)
    parser.add_argument("--memory", default="none", help="address-space limit, e.g. 4G (default: none)")


def run(args: argparse.Namespace) -> int:
    path: Path = args.notebook
    try:
        nb = nbformat.read(path, as_version=4)
    except FileNotFoundError:
        print(f"rnncourse check: {path} does not exist", file=sys.stderr)
        return 2
    except Exception as err:
        print(f"rnncourse check: {path} is not a readable notebook: {err}", file=sys.stderr)
        return 2
    if not test_cells(nb):
        print(f"rnncourse check: {path} has no graded test cells (nbgrader metadata); "
              "is it an exercise notebook from exercises/?", file=sys.stderr)
        return 2
    try:
        limits = Limits(cell_timeout=args.cell_timeout, timeout=args.timeout, memory=parse_size(args.memory))
    except ValueError as err:
        print(f"rnncourse check: {err}", file=sys.stderr)
        return 2
    print(f"Running {path} in a fresh kernel ...", flush=True)
    checked = check_notebook(path, limits)
    if checked.run.fate == Status.START_FAILED:
        print(f"rnncourse check: {checked.run.detail}", file=sys.stderr)
        return 2
    print(report(path, checked))
    results = checked.results
    warned = [w for w in checked.warnings if not w.startswith("Note:")]
    return 0 if results and all(r.passed for r in results) and not warned else 1
