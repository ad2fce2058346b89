"""The book builds to HTML with warnings as errors under `smoke`, executing every chapter afresh.

One build serves every test here: it executes each chapter once (a cell that raises fails it),
and the tests then look at what the reader would get.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, mirror_dir, smoke_env

pytestmark = [pytest.mark.slow]


def _chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    return [entry["file"] for entry in toc["chapters"]]


CHAPTERS = _chapters()


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).parent / "jupyter-book"
    # Datasets go to a cache of this test's own (the user's cache is left alone), read from the
    # offline mirror when there is one, else downloaded from the official homes.
    data = {"RNNCOURSE_DATA": str(out / "data")}
    if mirror_dir():
        data["RNNCOURSE_MIRROR"] = str(mirror_dir())
    result = subprocess.run(
        [str(jb), "build", str(ROOT / "book"), "--path-output", str(out), "--builder", "html",
         "-W", "-n", "--keep-going"],
        env=smoke_env(**data), capture_output=True, text=True, timeout=1500,
    )
    return out / "_build", result


def test_book_builds_with_warnings_as_errors(built_book):
    build, result = built_book
    log = result.stdout[-6000:] + result.stderr[-6000:]
    assert result.returncode == 0, f"jupyter-book build failed:\n{log}"
    assert (build / "html" / "index.html").exists()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_executes_under_smoke_without_errors(built_book, chapter):
    build, _ = built_book
    executed = build / "jupyter_execute" / f"{chapter}.ipynb"
    assert executed.exists(), f"{chapter} was not executed"
    nb = json.loads(executed.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c.get("execution_count") for c in code), f"{chapter}: some cells did not run"
    for cell in code:
        tags = cell.get("metadata", {}).get("tags", [])
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        if errors and "raises-exception" not in tags:
            pytest.fail(f"{chapter}: cell raised {errors[0]['ename']}: {errors[0]['evalue']}")
    first = "".join(code[0]["source"])
    assert "environment_summary()" in first, f"{chapter}: the first code cell must print environment_summary()"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_has_launch_buttons_download_and_outputs(built_book, chapter):
    build, _ = built_book
    page = (build / "html" / f"{chapter}.html").read_text()
    name = Path(chapter).name
    assert f"colab.research.google.com/github/" in page and f"notebooks/{name}.ipynb" in page, "no Colab button"
    assert "mybinder.org" in page, "no Binder button"
    assert f"{name}.ipynb" in page and "download" in page.lower()
    if name != "00-getting-started":
        assert re.search(r'<img [^>]*src="[^"]*\.png"', page), f"{chapter} shows no executed plot"
        assert f"exercises/{name}/{name}.ipynb" in page, f"{chapter} does not link its exercises"


def test_front_page_lists_every_chapter(built_book):
    build, _ = built_book
    front = (build / "html" / "intro.html").read_text()  # index.html redirects here
    for chapter in CHAPTERS:
        assert f'href="{chapter}.html"' in front, f"the front page does not list {chapter}"
