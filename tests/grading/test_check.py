"""``rnncourse check``: a learner's self-check runs anywhere, needs no gradebook, and exits 0
only when every visible test passes (checked on the first real assignment)."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from rnncourse.grading.assignments import assignment_names, make_course, read_source
from rnncourse.grading.check import HIDDEN_NOTE

NAME = assignment_names()[0]


def _check(notebook, *extra):
    return subprocess.run([sys.executable, "-m", "rnncourse", "check", str(notebook), *extra],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    """The solution and the untouched release, copied to a folder far from the course."""
    where = tmp_path_factory.mktemp("learner")
    course = make_course(tmp_path_factory.mktemp("course") / "course", [NAME])
    solution, release = where / f"solved-{NAME}.ipynb", where / f"{NAME}.ipynb"
    nbformat.write(read_source(NAME), solution)
    nbformat.write(nbformat.read(course.release_path(NAME), as_version=4), release)
    return solution, release


@pytest.mark.slow
def test_solution_passes(notebooks):
    run = _check(notebooks[0])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "FAILED" not in run.stdout and "passed" in run.stdout
    assert HIDDEN_NOTE in run.stdout


@pytest.mark.slow
def test_release_fails_with_the_messages(notebooks):
    run = _check(notebooks[1], "--cell-timeout", "60")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED" in run.stdout and "passed" not in run.stdout.split("Visible tests")[0]
    assert "not written yet" in run.stdout  # run_learner: "your rnn_step is not written yet"
    assert "Visible tests: 0 of" in run.stdout and HIDDEN_NOTE in run.stdout


def test_unreadable_notebooks_are_reported(tmp_path, capsys):
    from rnncourse.cli import main

    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    plain = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), plain)
    for path, words in [(tmp_path / "nowhere.ipynb", "does not exist"), (broken, "not a readable notebook"),
                        (plain, "no graded test cells")]:
        assert main(["check", str(path)]) == 2
        assert words in capsys.readouterr().err
