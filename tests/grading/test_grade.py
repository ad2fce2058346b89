"""``rnncourse grade`` on a class built from a real assignment: honest scores and statuses,
isolation of every submission, nothing written outside the scratch folders, idempotent re-runs.

The class (one folder per student) is derived from the first assignment in solutions/: the
source (full marks), the untouched release (0), a partly correct notebook, and one student for
each way a submission can go wrong. Grading it takes about a minute on 2 cores.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import nbformat
import pytest

from rnncourse.grading.assignments import assignment_names, graded_cells, make_course, read_source
from rnncourse.grading import cells
from rnncourse.grading.sandbox import sandbox_problem

NAME = assignment_names()[0]
LIMITS = ["--cell-timeout", "10", "--timeout", "60", "--memory", "1500M"]
TOKEN = uuid.uuid4().hex[:12]  # names the files an escaping submission would leave behind

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sandbox_problem() is not None, reason=f"no sandbox here: {sandbox_problem()}"),
]


def _grade_ids(nb) -> list[str]:
    return [nb.cells[i].metadata.nbgrader["grade_id"] for i in cells.test_cells(nb)]


def _answer_cell(nb, k: int) -> int:
    """Index of the answer cell of exercise ``k``: the last solution cell before its test cell."""
    test = cells.test_cells(nb)[k]
    return max(i for i in range(test) if nb.cells[i].metadata.get("nbgrader", {}).get("solution"))


def _cell(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _copy(nb):
    return nbformat.from_dict(json.loads(json.dumps(nb)))


def _after_setup(nb, source: str):
    """``nb`` with a code cell of the student's own right after the locked set-up cell."""
    nb = _copy(nb)
    setup = max(i for i, c in enumerate(nb.cells[: cells.test_cells(nb)[0]])
                if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("locked"))
    nb.cells.insert(setup + 1, nbformat.v4.new_code_cell(source))
    return nb


class Class:
    """The class's submissions, the score each must get, and the paths an escape would touch."""

    def __init__(self, root: Path, release, source, server_port: int):
        self.root, self.students, self.expected = root, {}, {}
        points = {c.grade_id: c.points for c in graded_cells(source) if c.kind == "tests"}
        ids = _grade_ids(source)
        total, first = sum(points.values()), points[ids[0]]
        self.total, self.first = total, first  # autograded points; written answers wait for a person
        self.max_score = sum(c.points for c in graded_cells(source))
        self.escapes = [Path.home() / f"escape-{TOKEN}", Path(f"/tmp/escape-{TOKEN}"),
                        Path(f"/home/student/escape-{TOKEN}"),
                        Path(__file__).resolve().parents[2] / f"escape-{TOKEN}",
                        Path(__file__).resolve().parents[2] / "rnncourse" / f"escape-{TOKEN}"]
        self.port = server_port
        (root.parent / "secret.txt").write_text("the instructor's private notes")

        def add(student, nb_or_bytes, score, status, filename=f"{NAME}.ipynb"):
            folder = root / student
            folder.mkdir(parents=True)
            data = nb_or_bytes if isinstance(nb_or_bytes, bytes) else nbformat.writes(nb_or_bytes).encode()
            (folder / filename).write_bytes(data)
            self.expected[student] = (score, status)

        partial = _copy(release)
        partial.cells[_answer_cell(partial, 0)].source = source.cells[_answer_cell(source, 0)].source
        add("solution", source, total, "graded")
        add("untouched", release, 0, "graded")
        add("partial", partial, first, "graded")

        loop = _copy(source)
        loop.cells[_answer_cell(loop, 0)].source = "while True:\n    pass\n" + loop.cells[_answer_cell(loop, 0)].source
        add("infinite-loop", loop, total - first, "timeout")

        hog = _copy(source)
        hog.cells[_answer_cell(hog, 0)].source = ("hog = []\nwhile True:\n    hog.append(bytearray(64 * 2**20))\n"
                                                 + hog.cells[_answer_cell(hog, 0)].source)
        add("memory-hog", hog, total - first, "memory")

        add("network", _after_setup(source, f"""
import socket, urllib.request
reached = []
for address in [("127.0.0.1", {server_port}), ("1.1.1.1", 53)]:
    try:
        socket.create_connection(address, timeout=3).close()
        reached.append(address)
    except OSError as err:
        print("blocked:", address, err)
try:
    urllib.request.urlopen("https://pypi.org", timeout=3)
    reached.append("pypi.org")
except OSError as err:
    print("blocked: pypi.org", err)
assert not reached, f"the network was reachable: {{reached}}"
"""), total, "graded")

        inside = ("/tmp/", "/home/student/")  # the sandbox's own scratch: writing there is allowed
        targets = [str(p) for p in self.escapes if not str(p).startswith(inside)] + [
            str(root / "solution" / f"{NAME}.ipynb"),  # another student's submission
            str(root.parent / "out" / "course" / "gradebook.db"),
            str(root.parent / "out" / "grades.csv"),
        ]
        add("writes-outside", _after_setup(source, f"""
import os
escaped = []
for target in {targets!r}:
    try:
        with open(target, "a") as f:
            f.write("escaped")
        escaped.append(target)
    except OSError as err:
        print("blocked:", target, type(err).__name__)
for secret in {[str(Path(__file__).resolve().parents[2] / "solutions" / NAME), str(root.parent / "secret.txt")]!r}:
    try:
        escaped.append((secret, os.listdir(secret) if os.path.isdir(secret) else open(secret).read()))
    except OSError as err:
        print("blocked:", secret, type(err).__name__)
# HOME and /tmp inside the sandbox are its own scratch, writable and discarded afterwards:
open(os.path.expanduser("~/escape-{TOKEN}"), "w").write("escaped")
open("/tmp/escape-{TOKEN}", "w").write("escaped")
assert not escaped, f"wrote or read outside the sandbox: {{escaped}}"
"""), total, "graded")

        edited = _copy(release)
        edited.cells[_cell(edited, ids[0])].source = "pass"
        add("edits-test-cell", edited, 0, "restored")

        deleted = _copy(source)
        del deleted.cells[_cell(deleted, ids[0])]
        add("deletes-test-cell", deleted, total, "restored")

        fake = _copy(release)
        for k in range(len(ids)):  # answers that return None instead of raising
            cell = fake.cells[_answer_cell(fake, k)]
            cell.source = cell.source.replace("raise NotImplementedError()", "return None")
        add("replaces-checks", _after_setup(fake, """
import numpy as np
import rnncourse.grading.checks
def no_check(*args, **kwargs):
    return None
rnncourse.grading.checks.check_close = rnncourse.grading.checks.check_equal = rnncourse.grading.checks.check_shape = no_check
check_close = check_equal = check_shape = check_type = no_check
np.allclose = lambda *args, **kwargs: True
"""), 0, "tampered")

        add("hides-errors", _after_setup(fake, """
def swallow(shell, etype, value, tb, tb_offset=None):
    return None
get_ipython().set_custom_exc((Exception,), swallow)
"""), 0, "tampered")

        exits = _copy(source)
        exits.cells.insert(_cell(exits, ids[0]) + 1, nbformat.v4.new_code_cell("import os\nos._exit(0)"))
        add("exits", exits, first, "exited")

        crashes = _copy(source)
        crashes.cells.insert(_cell(crashes, ids[0]) + 1, nbformat.v4.new_code_cell("import ctypes\nctypes.string_at(0)"))
        add("crashes", crashes, first, "kernel_died")

        add("invalid-json", b'{"cells": [{"cell_type": "code", "source": "print(1)"', 0, "invalid_json")
        add("empty-file", b"", 0, "empty")
        add("wrong-filename", source, 0, "wrong_filename", filename="homework.ipynb")
        (root / "missing").mkdir()
        (root / "missing" / "notes.txt").write_text("I forgot to attach it")
        self.expected["missing"] = (0, "missing")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded once (and a second time, to check that nothing changes)."""
    base = tmp_path_factory.mktemp("grading")
    course = make_course(base / "out" / "course", [NAME])  # as `grade` would; gives the release
    release = nbformat.read(course.release_path(NAME), as_version=4)
    source = read_source(NAME)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted = []

    def serve():
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                pass

    stop = threading.Event()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    klass = Class(base / "submissions", release, source, server.getsockname()[1])
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (base / "submissions").rglob("*") if p.is_file()}
    scratch_before = set(Path(tempfile.gettempdir()).glob("rnncourse-grade-*"))
    cmd = [sys.executable, "-m", "rnncourse", "grade", NAME, str(base / "submissions"), "--out", str(base / "out"),
           "--workers", "2", *LIMITS]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    snapshot = {p: p.read_bytes() for p in (base / "out").rglob("*") if p.is_file()}
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    stop.set()
    thread.join()
    server.close()
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (base / "submissions").rglob("*") if p.is_file()}
    scratch_left = set(Path(tempfile.gettempdir()).glob("rnncourse-grade-*")) - scratch_before
    return dict(base=base, klass=klass, first=first, second=second, snapshot=snapshot, accepted=accepted,
                submissions_unchanged=before == after, scratch_left=scratch_left)


def _rows(out: Path) -> dict[str, dict]:
    import csv

    with open(out / "grades.csv", newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_every_submission_gets_its_score_and_status(graded):
    assert graded["first"].returncode == 0, graded["first"].stdout + graded["first"].stderr
    rows = _rows(graded["base"] / "out")
    klass = graded["klass"]
    assert set(rows) == set(klass.expected)
    wrong = {s: (rows[s]["score"], rows[s]["status"], rows[s]["reason"]) for s, (score, status) in klass.expected.items()
             if (float(rows[s]["score"]), rows[s]["status"]) != (score, status)}
    assert not wrong, f"expected {({s: klass.expected[s] for s in wrong})}, got {wrong}"
    for row in rows.values():
        assert row["assignment"] == NAME and float(row["max_score"]) == klass.max_score
        assert (row["status"] == "graded") == (row["reason"] == ""), row


def test_reasons_name_what_happened(graded):
    rows = _rows(graded["base"] / "out")
    assert "ran longer than 10 s" in rows["infinite-loop"]["reason"]
    assert "memory limit of 1500M" in rows["memory-hog"]["reason"]
    assert "edited" in rows["edits-test-cell"]["reason"] and "deleted" in rows["deletes-test-cell"]["reason"]
    assert "check_close" in rows["replaces-checks"]["reason"] or "numpy.allclose" in rows["replaces-checks"]["reason"]
    assert "exception handler" in rows["hides-errors"]["reason"]
    assert "ends the Python process" in rows["exits"]["reason"]
    assert "died" in rows["crashes"]["reason"] and "did not run" in rows["crashes"]["reason"]
    assert "homework.ipynb" in rows["wrong-filename"]["reason"]
    assert "not valid JSON" in rows["invalid-json"]["reason"]


def test_nothing_escapes_the_sandbox(graded):
    klass = graded["klass"]
    assert not graded["accepted"], "a submission reached a server on the grader's machine"
    leftovers = [p for p in klass.escapes if p.exists()]
    assert not leftovers, f"a submission wrote outside its scratch folders: {leftovers}"
    assert graded["submissions_unchanged"], "a submission changed the class's files"
    out = graded["base"] / "out"
    for target in ("grades.csv", "course/gradebook.db"):  # what the submission tried to append to
        assert not graded["snapshot"][out / target].endswith(b"escaped")
    with sqlite3.connect(out / "course" / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    left = {str(p): sorted(str(f.relative_to(p)) for f in p.rglob("*")) for p in graded["scratch_left"] if p.exists()}
    assert not graded["scratch_left"], (f"the grader left its scratch folders behind: {left}\n"
                                        f"first run: {graded['first'].stdout[-1500:]}\nsecond run: {graded['second'].stdout[-1500:]}")


def test_gradebook_feedback_and_autograded_notebooks(graded):
    from nbgrader.api import Gradebook

    out, klass = graded["base"] / "out", graded["klass"]
    with Gradebook(f"sqlite:///{out / 'course' / 'gradebook.db'}", "rnncourse") as gb:
        for student, (score, status) in klass.expected.items():
            assert gb.find_submission(NAME, student).score == pytest.approx(score), student
    page = (out / "feedback" / NAME / "partial.html").read_text()
    assert "passed" in page and "failed" in page and "NotImplementedError" in page
    assert "BEGIN HIDDEN TESTS" not in page
    hidden = nbformat.read(out / "course" / "autograded" / "untouched" / NAME / f"{NAME}.ipynb", as_version=4)
    assert "BEGIN HIDDEN TESTS" in "".join(c.source for c in hidden.cells), "hidden tests were not restored"
    assert "escaped" not in (out / "feedback" / NAME / "writes-outside.html").read_text()


def test_second_run_changes_nothing(graded):
    second = graded["second"]
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.count("(unchanged)") == len(graded["klass"].expected), second.stdout
    now = {p: p.read_bytes() for p in (graded["base"] / "out").rglob("*") if p.is_file()}
    assert now == graded["snapshot"]


# --- interruptions ----------------------------------------------------------------------------

def test_interrupted_run_keeps_its_grades_and_resumes(tmp_path):
    """Ctrl-C after the first student: that grade is kept (results, gradebook, CSV); the next run
    grades only the others. The first run starts with SIGINT ignored, as a script's background
    job does: grade installs its own handler, so Ctrl-C still stops it."""
    import signal

    source = nbformat.writes(read_source(NAME))
    for student in ("ann", "ben", "cat"):
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / f"{NAME}.ipynb").write_text(source)
    cmd = [sys.executable, "-m", "rnncourse", "grade", NAME, str(tmp_path / "class"), "--out", str(tmp_path / "out"),
           *LIMITS]
    first = subprocess.Popen([*cmd, "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    lines = []
    for line in first.stdout:
        lines.append(line)
        if line.startswith("[  1/3]"):
            first.send_signal(signal.SIGINT)
    assert first.wait(timeout=120) == 130, "".join(lines)
    rows = _rows(tmp_path / "out")
    assert list(rows) == ["ann"] and rows["ann"]["score"] == f"{sum(c.points for c in graded_cells(read_source(NAME)) if c.kind == 'tests'):g}"
    assert "2 submissions are left" in "".join(lines)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'out' / 'course' / 'gradebook.db'}", "rnncourse") as gb:
        assert [s.id for s in gb.students] == ["ann"] and gb.find_submission(NAME, "ann").score == float(rows["ann"]["score"])
    second = subprocess.run([*cmd, "--workers", "2"], capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "ann" in second.stdout.split("(unchanged)")[0] and second.stdout.count("(unchanged)") == 1
    assert set(_rows(tmp_path / "out")) == {"ann", "ben", "cat"}
