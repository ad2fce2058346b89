"""Running a class: the roster, due dates and submission times, per-exercise columns, the LMS
import files (checked against the formats Canvas and Moodle document) and the gradebook that
formgrader shows. The end-to-end run grades without the sandbox (the notebooks are the course's
own), so it runs wherever the tests run."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta, timezone

import nbformat
import pytest

from rnncourse.grading.assignments import assignment_names, graded_cells, make_course, read_source, release_notebook
from rnncourse.grading.exports import grade_rows, write_lms
from rnncourse.grading.lateness import LatenessError, minutes_late, parse_time, read_times
from rnncourse.grading.roster import RosterError, match_roster, read_roster
from rnncourse.grading.submissions import collect

NAME = assignment_names()[0]
ROSTER = ("id,First_Name,last_name,email,lms_id\n"
          "asmith,Alice,Smith,alice@uni.example,4711\n"
          "bjones,Bob,Jones,bob@uni.example,4712\n"
          "cchan,Carol,Chan,carol@uni.example,4713\n")
DUE = "2026-03-01T23:59+01:00"


def _nb() -> bytes:
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])).encode()


def test_canvas_and_moodle_names_give_lms_ids_and_the_late_flag(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"smithalice_4711_902_{NAME}.ipynb", _nb())
        z.writestr(f"jonesbob_late_4712_903_{NAME}-1.ipynb", _nb())  # Canvas writes "late" in lower case
        z.writestr(f"Carol Chan_4713_assignsubmission_file_/{NAME}.ipynb", _nb())
        z.writestr(f"dave/{NAME}/{NAME}.ipynb", _nb())
        z.writestr(f"dave/{NAME}/timestamp.txt", "2026-03-02 00:30:00.000000 UTC")
    subs = {s.student: s for s in collect(archive, NAME)}
    assert (subs["smithalice"].lms_id, subs["smithalice"].late) == ("4711", False)
    assert (subs["jonesbob"].lms_id, subs["jonesbob"].late) == ("4712", True)
    assert subs["Carol-Chan_4713"].lms_id == "4713"
    assert subs["dave"].timestamp.startswith("2026-03-02 00:30") and subs["dave"].notebook is not None


def test_roster_matches_by_id_email_or_lms_id_and_lists_the_rest(tmp_path):
    (tmp_path / "roster.csv").write_text("\ufeff" + ROSTER)  # as Excel saves it
    roster = read_roster(tmp_path / "roster.csv")
    for folder in ("bob@uni.example", "stranger"):
        (tmp_path / "dl" / folder).mkdir(parents=True)
    (tmp_path / "dl" / f"smithalice_4711_1_{NAME}.ipynb").write_bytes(_nb())
    (tmp_path / "dl" / "bob@uni.example" / f"{NAME}.ipynb").write_bytes(_nb())
    (tmp_path / "dl" / "stranger" / f"{NAME}.ipynb").write_bytes(_nb())
    subs = collect(tmp_path / "dl", NAME)
    unknown = match_roster(subs, roster)
    by_id = {s.student: s for s in subs}
    assert unknown == ["stranger"]
    assert by_id["asmith"].notebook is not None and by_id["bjones"].notebook is not None
    assert by_id["cchan"].problem == "missing" and "stranger" in by_id


@pytest.mark.parametrize("text, words", [
    ("name,email\nAl,a@x\n", "'id' column"),
    ("id,email\nal,a@x\nbo,a@x\n", "email 'a@x' is also on line 2"),
    ("id\nal/../x\n", "letters, digits"),
])
def test_a_bad_roster_is_refused_in_the_instructors_terms(tmp_path, text, words):
    (tmp_path / "roster.csv").write_text(text)
    with pytest.raises(RosterError, match=words):
        read_roster(tmp_path / "roster.csv")


def test_times_from_moodles_grading_worksheet(tmp_path):
    """The worksheet as Moodle writes it: Identifier "Participant N", dates in its own format."""
    (tmp_path / "worksheet.csv").write_text(
        'Identifier,"Full name","Email address",Status,Grade,"Maximum Grade","Grade can be changed",'
        '"Last modified (submission)","Last modified (grade)","Feedback comments"\n'
        'Participant 4713,"Carol Chan",carol@uni.example,"Submitted for grading",,13.00,Yes,'
        '"Monday, 2 March 2026, 1:30 AM",-,\n'
        'Participant 4714,"Dan Doe",dan@uni.example,"No submission",,13.00,Yes,-,-,\n')
    due = parse_time(DUE)
    times = read_times(tmp_path / "worksheet.csv", due.tzinfo)
    assert times["4713"] == times["carol@uni.example"] == datetime(2026, 3, 2, 1, 30, tzinfo=due.tzinfo)
    assert "4714" not in times and "dan@uni.example" not in times
    assert minutes_late(times["4713"], due) == 91
    assert minutes_late(due - timedelta(seconds=1), due) == 0 and minutes_late(due + timedelta(seconds=1), due) == 1
    assert minutes_late(None, due) is None
    with pytest.raises(LatenessError, match="2026-03-01T23:59"):
        parse_time("tomorrow")


def _result(student, score, manual=(), **extra):
    tests = [{"grade_id": "ex1-tests", "score": score, "points": 2}]
    return {"student": student, "assignment": NAME, "score": score, "max_score": 2 + sum(p for _, p in manual),
            "status": "graded", "reason": "", "tests": tests,
            "manual": [{"grade_id": gid, "title": gid, "points": p} for gid, p in manual], **extra}


def test_lms_files_follow_the_documented_formats(tmp_path):
    info = {"first_name": "Alice", "last_name": "Smith", "email": "alice@uni.example", "lms_id": "4711"}
    results = [_result("asmith", 2, [("ex2-written", 3)], student_info=info),
               _result("nomail", 1, [("ex2-written", 3)], student_info={})]
    by_hand = {(NAME, "asmith"): {"manual": {"ex2-written": 2.5}, "penalty": 1.0},
               (NAME, "nomail"): {"manual": {"ex2-written": None}, "penalty": 0.0}}
    rows = grade_rows(results, by_hand)
    assert rows[0]["score"] == "3.5" and rows[0]["ex2-written"] == "2.5" and rows[0]["late_penalty"] == "1"
    assert rows[1]["needs_manual_grading"] == "ex2-written" and rows[1]["ex2-written"] == ""

    canvas, notes = write_lms(tmp_path, "canvas", rows)
    table = list(csv.reader(io.StringIO(canvas.read_text())))
    # Canvas: Student, ID, SIS User ID, SIS Login ID, Section, then the assignments; Points Possible row
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", NAME]
    assert table[1][0] == "Points Possible" and table[1][-1] == "5"
    assert table[2] == ["Smith, Alice", "4711", "asmith", "", "", "3.5"]
    assert any("not graded yet" in n for n in notes) and any("no Canvas user id for nomail" in n for n in notes)

    moodle, notes = write_lms(tmp_path, "moodle", rows)
    table = list(csv.reader(io.StringIO(moodle.read_text())))
    # Moodle's gradeimport_csv: one header row, users mapped by Email address or ID number
    assert table[0] == ["First name", "Surname", "ID number", "Email address", NAME]
    assert table[1] == ["Alice", "Smith", "asmith", "alice@uni.example", "3.5"]
    assert all(len(line) == len(table[0]) for line in table)  # Moodle refuses ragged rows
    assert any("no email for nomail" in n for n in notes)


@pytest.mark.slow
def test_a_class_from_download_to_lms_file(tmp_path):
    """Canvas download with a late file and a stranger, a roster, a due date and times: the
    gradebook has names and timestamps (formgrader), grades.csv has minutes late and a column
    per exercise, and a second run regrades nothing."""
    from nbgrader.api import Gradebook

    from rnncourse.grading.grade import ClassOptions, grade_class
    from rnncourse.grading.sandbox import Limits

    source = read_source(NAME)
    release = nbformat.reads(release_notebook(make_course(tmp_path / "c", [NAME]), NAME), as_version=4)
    dl = tmp_path / "dl"
    dl.mkdir()
    (dl / f"smithalice_4711_900_{NAME}.ipynb").write_text(nbformat.writes(source))
    (dl / f"jonesbob_LATE_4712_901_{NAME}.ipynb").write_text(nbformat.writes(release))
    (dl / f"strangerx_4799_902_{NAME}.ipynb").write_text(nbformat.writes(source))
    (tmp_path / "roster.csv").write_text(ROSTER)
    due = parse_time(DUE)
    options = ClassOptions(roster=read_roster(tmp_path / "roster.csv"), due=due,
                           times={"4712": due + timedelta(minutes=76)}, lms="moodle")
    kwargs = dict(workers=2, limits=Limits(cell_timeout=60, timeout=300, memory=None), sandboxed=False,
                  options=options, echo=lambda line: lines.append(line))
    lines: list[str] = []
    grade_class(NAME, dl, tmp_path / "out", **kwargs)
    text = "\n".join(lines)
    assert "Not on the roster" in text and "strangerx" in text and "Late: 1 (bjones)" in text
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    tests = [c.grade_id for c in graded_cells(source) if c.kind == "tests"]
    assert rows["bjones"]["minutes_late"] == "76" and rows["asmith"]["minutes_late"] == ""
    assert rows["cchan"]["status"] == "missing" and rows["asmith"]["first_name"] == "Alice"
    assert all(rows["asmith"][t] != "" for t in tests) and float(rows["asmith"]["score"]) > 0
    with Gradebook(f"sqlite:///{tmp_path / 'out' / 'course' / 'gradebook.db'}", "rnncourse") as gb:
        bob = gb.find_submission(NAME, "bjones")
        assert (bob.student.first_name, bob.student.last_name, bob.student.lms_user_id) == ("Bob", "Jones", "4712")
        assert bob.total_seconds_late == 76 * 60
        assert gb.find_assignment(NAME).duedate == due.astimezone(timezone.utc).replace(tzinfo=None)
    assert 'course_id = "rnncourse"' in (tmp_path / "out" / "course" / "nbgrader_config.py").read_text()
    moodle = (tmp_path / "out" / "moodle-import.csv").read_text()
    assert "bob@uni.example" in moodle
    lines.clear()
    grade_class(NAME, dl, tmp_path / "out", **kwargs)
    assert sum("(unchanged)" in line for line in lines) == 4 and "(0 students updated)" in "\n".join(lines)


@pytest.mark.slow
def test_written_answers_wait_for_a_person_then_count(tmp_path):
    """grade leaves the written answers "needs manual grading" (gradebook, grades.csv, feedback);
    once graded by hand (as formgrader stores it), running grade again puts them in the totals
    and the LMS file without regrading anything."""
    from nbgrader.api import Gradebook

    from rnncourse.grading.grade import ClassOptions, grade_class
    from rnncourse.grading.sandbox import Limits

    source = read_source(NAME)
    written = [c for c in graded_cells(source) if c.kind == "manual"]
    assert written, f"{NAME} has no written question"
    auto = sum(c.points for c in graded_cells(source) if c.kind == "tests")
    (tmp_path / "dl" / "ann").mkdir(parents=True)
    (tmp_path / "dl" / "ann" / f"{NAME}.ipynb").write_text(nbformat.writes(source))
    kwargs = dict(workers=1, limits=Limits(cell_timeout=60, timeout=300, memory=None), sandboxed=False,
                  options=ClassOptions(lms="canvas"), echo=lambda line: None)
    grade_class(NAME, tmp_path / "dl", tmp_path / "out", **kwargs)
    row = next(csv.DictReader(open(tmp_path / "out" / "grades.csv")))
    assert row["needs_manual_grading"] == " ".join(c.grade_id for c in written)
    assert float(row["score"]) == auto and float(row["max_score"]) == auto + sum(c.points for c in written)
    page = (tmp_path / "out" / "feedback" / NAME / "ann.html").read_text()
    assert "needs manual grading" in page
    db = f"sqlite:///{tmp_path / 'out' / 'course' / 'gradebook.db'}"
    with Gradebook(db, "rnncourse") as gb:  # what formgrader does when the instructor grades by hand
        nb = gb.find_submission_notebook(NAME, NAME, "ann")
        assert all(g.needs_manual_grade for g in nb.grades if g.name in {c.grade_id for c in written})
        for grade in nb.grades:
            if grade.name in {c.grade_id for c in written}:
                grade.manual_score, grade.needs_manual_grade = 1.5, False
        gb.db.commit()
    grade_class(NAME, tmp_path / "dl", tmp_path / "out", **kwargs)
    row = next(csv.DictReader(open(tmp_path / "out" / "grades.csv")))
    assert row["needs_manual_grading"] == "" and float(row["score"]) == auto + 1.5 * len(written)
    canvas = list(csv.reader(open(tmp_path / "out" / "canvas-import.csv")))
    assert float(canvas[2][-1]) == auto + 1.5 * len(written)
    assert "graded by hand" in (tmp_path / "out" / "feedback" / NAME / "ann.html").read_text()


@pytest.mark.slow
def test_roster_shards_merge_into_one_gradebook(tmp_path):
    """Two machines grade their halves of the class (--roster-only); the final run merges their
    results (--merge) with the whole roster, regrades nothing and has everyone in one gradebook."""
    from nbgrader.api import Gradebook

    from rnncourse.grading.grade import ClassOptions, grade_class
    from rnncourse.grading.sandbox import Limits

    source, dl = nbformat.writes(read_source(NAME)), tmp_path / "dl"
    dl.mkdir()
    for login, lms_id in (("smithalice", 4711), ("jonesbob", 4712), ("chancarol", 4713)):
        (dl / f"{login}_{lms_id}_1_{NAME}.ipynb").write_text(source)
    lines = ROSTER.splitlines()
    (tmp_path / "a.csv").write_text("\n".join(lines[:3]) + "\n")  # header, asmith, bjones
    (tmp_path / "b.csv").write_text("\n".join([lines[0], lines[3]]) + "\n")  # header, cchan
    (tmp_path / "all.csv").write_text(ROSTER)
    said: list[str] = []
    kwargs = dict(workers=2, limits=Limits(cell_timeout=60, timeout=300, memory=None), sandboxed=False,
                  echo=said.append)
    for shard in ("a", "b"):
        options = ClassOptions(roster=read_roster(tmp_path / f"{shard}.csv"), roster_only=True)
        summary = grade_class(NAME, dl, tmp_path / f"out-{shard}", options=options, **kwargs)
        assert summary["total"] == (2 if shard == "a" else 1)
    said.clear()
    options = ClassOptions(roster=read_roster(tmp_path / "all.csv"), merge=[tmp_path / "out-a", tmp_path / "out-b"])
    grade_class(NAME, dl, tmp_path / "out", options=options, **kwargs)
    assert sum("(unchanged)" in line for line in said) == 3, "\n".join(said)
    with Gradebook(f"sqlite:///{tmp_path / 'out' / 'course' / 'gradebook.db'}", "rnncourse") as gb:
        assert sorted(s.id for s in gb.students) == ["asmith", "bjones", "cchan"]
        assert all(gb.find_submission(NAME, s).score > 0 for s in ("asmith", "bjones", "cchan"))


def test_a_test_rescored_by_hand_counts_with_the_hand_score():
    """A run that went wrong is flagged in formgrader; the score the instructor gives there wins."""
    rows = grade_rows([_result("cchan", 0)], {(NAME, "cchan"): {
        "manual": {}, "overrides": {"ex1-tests": 1.5}, "penalty": 0.0}})
    assert rows[0]["score"] == "1.5" and rows[0]["ex1-tests"] == "1.5"


def test_nbgraders_late_penalty_plugin_applies_from_the_course_config(tmp_path):
    """nbgrader_config.py's LateSubmissionPlugin.penalty_method = "zero" takes a late
    submission's score away, as nbgrader's own autograde would."""
    from rnncourse.grading.gradebook import read_manual, sync_gradebook

    course = tmp_path / "course"
    make_course(course, [NAME])
    config = course / "nbgrader_config.py"
    config.write_text(config.read_text().replace("# c.LateSubmissionPlugin", "c.LateSubmissionPlugin"))
    source = read_source(NAME)
    tests = [{"grade_id": c.grade_id, "score": c.points} for c in graded_cells(source) if c.kind == "tests"]
    due = parse_time(DUE)
    results = [{"student": s, "assignment": NAME, "status": "graded", "tests": tests, "manual": [],
                "due": due.isoformat(), "submitted": (due + timedelta(minutes=m)).isoformat(), "student_info": {}}
               for s, m in (("late", 5), ("early", -5))]
    assert sync_gradebook(course, results) == 2
    found = read_manual(course, results)
    assert found[(NAME, "late")]["penalty"] == sum(t["score"] for t in tests)
    assert found[(NAME, "early")]["penalty"] == 0.0
