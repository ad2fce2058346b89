"""The book builds to HTML with warnings as errors under `smoke`, executing every chapter afresh.

One build serves every test here and in test_browser.py (the ``built_book`` fixture of
conftest.py): it executes each chapter once (a cell that raises fails it), and the tests then look
at what the reader would get.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

pytestmark = [pytest.mark.slow]


def _chapters() -> list[str]:
    """The chapter notebooks the table of contents lists (not the plain pages beside them)."""
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    return [entry["file"] for entry in toc["chapters"] if entry["file"].startswith("chapters/")]


CHAPTERS = _chapters()


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
