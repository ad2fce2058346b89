"""Plausible-wrong answers lose the points of their exercise, and only those.

The structure, for every assignment author:

    tests/wrong_answers/<assignment>/<exercise>-<mistake>.py
    e.g. tests/wrong_answers/03-lstm-gru-gates/ex1-gates-ifog.py

``<exercise>`` is the answer cell's ``grade_id`` without ``-answer`` (``ex1`` for the cell
``ex1-answer``, whose test cell is ``ex1-tests``). The file holds Python code that a student
could have written: it runs at the end of that answer cell, after the solution, so it redefines
the functions it names (a wrong answer for one of two functions in a cell names only that one).
Start it with comment lines that say the mistake; a line ``# expect: <regex>`` adds that the
failure message of the exercise must match the regex (case-insensitive), so that a refused
shortcut names its route and a hint fits the mistake, e.g.::

    # The fused cell function instead of the gates.
    # expect: used torch\\.lstm_cell
    def lstm_cell_forward(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
        ...

Each wrong answer must cost its exercise all its points. The answers are graded in rounds: round
k puts the k-th wrong answer of every exercise (in file-name order) into one copy of the source
notebook (answers, visible and hidden tests), which is run as the grader runs test cells (the
guarded runner behind ``rnncourse check`` and ``rnncourse grade``). Every exercise with a wrong
answer in that round must score 0 and every other exercise full marks: that also shows there is
no cascade, since the wrong answers of earlier exercises are in the notebook while later
exercises are graded.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from rnncourse.grading.assignments import assignment_names, graded_cells, read_source

WRONG = Path(__file__).resolve().parent / "wrong_answers"


def wrong_answers(name: str) -> dict[str, list[Path]]:
    """``{exercise: [files]}`` for assignment ``name``."""
    found: dict[str, list[Path]] = {}
    for path in sorted((WRONG / name).glob("*.py")):
        found.setdefault(path.name.split("-", 1)[0], []).append(path)
    return found


def rounds() -> list[tuple[str, int]]:
    cases = []
    for name in assignment_names():
        answers = wrong_answers(name)
        cases += [(name, k) for k in range(max((len(v) for v in answers.values()), default=0))]
    return cases


def expectation(path: Path) -> str | None:
    match = re.search(r"^# expect: (.+)$", path.read_text(), re.M)
    return match.group(1).strip() if match else None


@pytest.mark.parametrize("name", assignment_names())
def test_every_exercise_has_plausible_wrong_answers(name):
    exercises = {c.grade_id.removesuffix("-tests") for c in graded_cells(read_source(name))}
    answers = wrong_answers(name)
    unknown = set(answers) - exercises
    assert not unknown, f"{name}: wrong answers for exercises that do not exist: {sorted(unknown)}"
    if not answers:
        pytest.skip(f"{name} has no wrong answers in tests/wrong_answers/ yet")
    missing = sorted(exercises - set(answers))
    assert not missing, f"{name}: exercises without plausible-wrong answers in tests/wrong_answers/{name}/: {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("name,k", rounds(), ids=[f"{n}-round{k}" for n, k in rounds()])
def test_wrong_answers_lose_their_points_and_only_theirs(name, k, tmp_path):
    from rnncourse.grading.check import check_notebook
    from rnncourse.grading.sandbox import Limits

    nb = read_source(name)
    chosen = {ex: files[k] for ex, files in wrong_answers(name).items() if len(files) > k}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        exercise = grade_id.removesuffix("-answer")
        if grade_id.endswith("-answer") and exercise in chosen:
            cell.source = cell.source + "\n\n# --- a plausible-wrong answer ---\n" + chosen[exercise].read_text()
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    _, results = check_notebook(path, Limits(cell_timeout=120, timeout=600))
    problems = []
    for r in results:
        exercise = r.grade_id.removesuffix("-tests")
        if exercise in chosen:
            wrong = chosen[exercise].name
            if r.score:
                problems.append(f"{wrong} got {r.score} of {r.points} points")
            elif r.tampered:
                problems.append(f"{wrong} was taken for tampering: {r.tampered}")
            elif (pattern := expectation(chosen[exercise])) and not re.search(pattern, r.message, re.I | re.S):
                problems.append(f"{wrong}: the message does not match {pattern!r}:\n{r.message}")
        elif r.score != r.points:
            problems.append(f"{r.grade_id} lost points although its answer is right (a cascade?): {r.message}")
    assert not problems, f"{name}, round {k}:\n" + "\n".join(problems)
