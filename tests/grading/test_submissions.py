"""Finding each student's notebook in a folder or an LMS zip (pure Python: no sandbox needed)."""

from __future__ import annotations

import zipfile

import nbformat

from rnncourse.grading.assignments import assignment_names
from rnncourse.grading.submissions import collect

NAME = assignment_names()[0]


def test_lms_zip_naming(tmp_path):
    nb = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])).encode()
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"alice_4711_902_{NAME}.ipynb", nb)  # Canvas
        z.writestr(f"bob_LATE_4712_903_{NAME}-2.ipynb", nb)  # Canvas, late re-submission
        z.writestr(f"Carol Smith_4713_assignsubmission_file_/{NAME}.ipynb", nb)  # Moodle
        z.writestr(f"dave/{NAME}/{NAME}.ipynb", nb)  # nbgrader layout
        z.writestr("erin/answers.ipynb", nb)
        z.writestr("../../frank/x.txt", b"zip slip")
        z.writestr("__MACOSX/._alice", b"junk")
    subs = {s.student: s for s in collect(archive, NAME)}
    assert set(subs) == {"alice", "bob", "Carol-Smith_4713", "dave", "erin", "frank"}
    assert all(subs[s].notebook is not None for s in ("alice", "bob", "Carol-Smith_4713", "dave"))
    assert subs["erin"].problem == "wrong_filename" and subs["frank"].problem == "missing"
    assert not (tmp_path.parent / "frank").exists()
