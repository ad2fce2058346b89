"""Plausible-wrong answers lose the points of their exercise, and only those.

The structure, for every assignment author:

    tests/assignments/wrong_answers/<assignment>/<exercise>-<mistake>.py
    e.g. tests/assignments/wrong_answers/03-lstm-gru-gates/ex1-gates-ifog.py

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
notebook, and all the rounds of an assignment are graded together by
:func:`rnncourse.grading.grade_notebooks`, the route ``rnncourse grade`` grades a class by
(locked cells and hidden tests restored from the source, the guard around every test cell).
Every exercise with a wrong answer in a round must score 0 and every other exercise full marks:
that also shows there is no cascade, since the wrong answers of earlier exercises are in the
notebook while later exercises are graded.
"""

from __future__ import annotations

import json
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


def expectation(path: Path) -> str | None:
    match = re.search(r"^# expect: (.+)$", path.read_text(), re.M)
    return match.group(1).strip() if match else None


@pytest.mark.parametrize("name", assignment_names())
def test_every_exercise_has_plausible_wrong_answers(name):
    # autograded exercises only: a written question is graded by hand, so it has no wrong code
    exercises = {c.grade_id.removesuffix("-tests") for c in graded_cells(read_source(name)) if c.kind == "tests"}
    answers = wrong_answers(name)
    unknown = set(answers) - exercises
    assert not unknown, f"{name}: wrong answers for exercises that do not exist: {sorted(unknown)}"
    if not answers:
        pytest.skip(f"{name} has no wrong answers in tests/assignments/wrong_answers/ yet")
    missing = sorted(exercises - set(answers))
    assert not missing, f"{name}: exercises without plausible-wrong answers in tests/assignments/wrong_answers/{name}/: {missing}"


def _messages(out: Path) -> dict[str, dict[str, str]]:
    """``{student: {grade_id: message}}`` from the grader's result files under ``out``."""
    found: dict[str, dict[str, str]] = {}
    for path in out.rglob("*.json"):
        try:
            result = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(result, dict) and isinstance(result.get("tests"), list) and "student" in result:
            found[result["student"]] = {t.get("grade_id"): t.get("message", "") for t in result["tests"]}
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in assignment_names() if wrong_answers(n)])
def test_wrong_answers_lose_their_points_and_only_theirs(name, tmp_path):
    from rnncourse.grading import grade_notebooks

    answers = wrong_answers(name)
    notebooks, chosen = {}, {}
    for k in range(max(len(v) for v in answers.values())):
        student = f"round{k}"
        chosen[student] = {ex: files[k] for ex, files in answers.items() if len(files) > k}
        nb = read_source(name)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            exercise = grade_id.removesuffix("-answer")
            if grade_id.endswith("-answer") and exercise in chosen[student]:
                wrong = chosen[student][exercise].read_text()
                cell.source = cell.source + "\n\n# --- a plausible-wrong answer ---\n" + wrong
        notebooks[student] = nb
    scores = grade_notebooks(name, notebooks, out=tmp_path / "out")
    messages = _messages(tmp_path / "out")
    maximum = {c.grade_id: c.points for c in graded_cells(read_source(name))}
    problems = []
    for student, got in scores.items():
        for grade_id, score in got.items():
            exercise = grade_id.removesuffix("-tests")
            message = messages.get(student, {}).get(grade_id, "(no message found in the grader's results)")
            if exercise in chosen[student]:
                wrong = chosen[student][exercise]
                pattern = expectation(wrong)
                if score:
                    problems.append(f"{wrong.name} got {score} of {maximum[grade_id]} points")
                elif pattern and not re.search(pattern, message, re.I | re.S):
                    problems.append(f"{wrong.name}: the message does not match {pattern!r}:\n{message}")
            elif score != maximum[grade_id]:
                problems.append(f"{student}: {grade_id} lost points although its answer is right (a cascade?): "
                                f"{message}")
    assert not problems, f"{name}:\n" + "\n".join(problems)
