"""``rnncourse check NOTEBOOK``: a learner's self-check of an exercise notebook.

Runs the notebook from the top in a fresh kernel of this Python environment (never a stale
kernelspec: the kernel is started from this interpreter, and ``JUPYTER_PATH`` is pinned with
:func:`rnncourse.grading.kernel.pinned_kernel_env`), in the notebook's own folder, with a time
limit per cell and for the whole notebook, then prints for each graded exercise its points,
passed or failed, and the message of the failing check; the total of the visible tests; and a
reminder that the hidden tests of the real grade are not part of a self-check. The exit status
is 0 only when every visible test passes.

It needs nothing but the notebook: no gradebook, no ``solutions/``, no sandbox (it runs the
learner's own code as the learner). Test cells are found by their nbgrader metadata and scored
exactly as ``rnncourse grade`` scores them (:mod:`rnncourse.grading.runner`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
from pathlib import Path

import nbformat

from rnncourse.grading.cells import test_cells
from rnncourse.grading.feedback import format_points
from rnncourse.grading.kernel import pinned_kernel_env
from rnncourse.grading.runner import run_notebook
from rnncourse.grading.sandbox import Limits, Scratch, add_time_limit_arguments, parse_size
from rnncourse.grading.scoring import score_tests
from rnncourse.grading.outcomes import Run, Status, TestResult
from rnncourse.runtime.threads import choose_threads

__all__ = ["add_arguments", "check_notebook", "run"]

HIDDEN_NOTE = ("Hidden tests are not part of a self-check: the grade also runs hidden tests with other "
               "shapes and seeds, so it can be lower than this.")


def check_notebook(path: Path, limits: Limits) -> tuple[Run, list[TestResult]]:
    """Execute ``path`` in a fresh kernel and score its visible tests."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="rnncourse-check-") as tmp:
        scratch = Scratch(Path(tmp))
        env = pinned_kernel_env()
        # torch in the kernel uses the thread count every page uses (rnncourse.runtime.threads).
        env["OMP_NUM_THREADS"] = str(choose_threads()[0])
        run = run_notebook(nb, limits, scratch, sandboxed=False, grading=False, cwd=path.resolve().parent,
                           env=env)
    return run, score_tests(run)


def report(path: Path, run: Run, results: list[TestResult], width: int = 100) -> str:
    """The text ``rnncourse check`` prints."""
    lines = [f"rnncourse check: {path.name} (visible tests only)", ""]
    title_width = min(max((len(r.title) for r in results), default=8), 60)
    lines.append(f"  {'Exercise':<{title_width}}  {'Points':>9}  Result")
    for r in results:
        title = r.title if len(r.title) <= title_width else r.title[: title_width - 1] + "…"
        verdict = "passed" if r.passed else "FAILED"
        lines.append(f"  {title:<{title_width}}  {format_points(r.score):>4} / {format_points(r.points):<2}  {verdict}")
        if not r.passed:
            for paragraph in r.message.splitlines():
                lines += textwrap.wrap(paragraph, width=width - 6, initial_indent="      ",
                                       subsequent_indent="      ") or [""]
    earned, total = sum(r.score for r in results), sum(r.points for r in results)
    lines += ["", f"Visible tests: {format_points(earned)} of {format_points(total)} points"
                  f" ({sum(r.passed for r in results)} of {len(results)} exercises pass)."]
    tests = set(test_cells(run.nb))
    errors = [(i, c) for i, c in run.cells.items() if c.status == Status.ERROR and i not in tests]
    if errors:
        lines.append("Cells outside the tests that raised an error (fix these first):")
        for i, c in errors[:5]:
            lines.append(f"  cell {i + 1}: {c.ename}: {c.evalue.splitlines()[0] if c.evalue else ''}".rstrip(": "))
    if run.fate != Status.COMPLETED:
        lines.append(f"The run ended early: {run.detail}.")
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
    run_, results = check_notebook(path, limits)
    if run_.fate == Status.START_FAILED:
        print(f"rnncourse check: {run_.detail}", file=sys.stderr)
        return 2
    print(report(path, run_, results))
    return 0 if results and all(r.passed for r in results) else 1
