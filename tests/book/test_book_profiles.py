"""The course's Sphinx extension in tiny books: the execution cache per profile, numbers from results.

The execution cache is kept per profile: a build under another profile re-executes the pages. A tiny book (one notebook page that prints its profile) with the course's Sphinx extension is built
three times: under ``smoke``, under ``cpu`` (must execute again, not serve smoke's outputs), and
under ``smoke`` again (served from smoke's own cache, without executing). A second tiny book
takes numbers from results files of its own: ``{result}`` in prose and the ``{reference-numbers}``
table.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, smoke_env

pytestmark = [pytest.mark.slow]

CONFIG = f"""\
title: tiny
execute:
  execute_notebooks: cache
  timeout: 120
sphinx:
  local_extensions:
    rnncourse_book: {ROOT / "book" / "_ext"}
"""

PAGE = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Tiny

```{code-cell} ipython3
import os
print("built under profile", os.environ["RNNCOURSE_PROFILE"])
```
"""


def _build(book: Path, profile: str) -> tuple[str, str]:
    jb = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run([str(jb), "build", str(book), "--builder", "html", "-W", "-n"],
                            env=smoke_env(RNNCOURSE_PROFILE=profile), capture_output=True, text=True,
                            timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    return (book / "_build" / "html" / "page.html").read_text(), log


def test_switching_profile_re_executes_and_each_profile_keeps_its_cache(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "_config.yml").write_text(CONFIG)
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (book / "page.md").write_text(PAGE)

    page, log = _build(book, "smoke")
    assert "built under profile smoke" in page and "Executing notebook" in log
    assert (book / "_build" / ".jupyter_cache" / "smoke").is_dir()

    page, log = _build(book, "cpu")
    assert "Executing notebook" in log, "the cpu build served the smoke build's cached outputs"
    assert "built under profile cpu" in page and "profile smoke" not in page

    page, log = _build(book, "smoke")
    assert "built under profile smoke" in page
    assert "Executing notebook" not in log, "smoke's own cache was not reused"


NUMBERS = """\
# Numbers

The median was {result}`imdb-cpu:median_test_accuracy|.1%` on {result}`imdb-cpu:host`.

```{reference-numbers}
```
"""


def test_numbers_in_prose_and_the_reference_page_come_from_the_results_files(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "_config.yml").write_text(CONFIG.replace("execute_notebooks: cache", "execute_notebooks: 'off'"))
    (book / "_toc.yml").write_text("format: jb-book\nroot: numbers\n")
    (book / "numbers.md").write_text(NUMBERS)
    results = tmp_path / "benchmarks" / "results"
    results.mkdir(parents=True)
    summary = [{"what": "IMDB test accuracy, median of 3 seeds", "value": 91.23, "unit": "%",
                "target": ">= 90%", "met": True}]
    for date, accuracy in (("2026-01-01T00:00:00+00:00", 0.5), ("2026-02-01T00:00:00+00:00", 0.9123)):
        (results / f"imdb-cpu-h{date[6]}.json").write_text(json.dumps(
            {"date": date, "host": f"h{date[6]}", "profile": "cpu", "hardware": "CPU, 1 threads",
             "median_test_accuracy": accuracy, "summary": summary}))
    (results / "extra-cpu-h.json").write_text(json.dumps(
        {"date": "2026-02-02", "summary": [{"what": "something else", "value": 3.5, "unit": "ms",
                                            "target": None, "met": None}]}))

    jb = Path(sys.executable).parent / "jupyter-book"
    run = functools.partial(subprocess.run, [str(jb), "build", str(book), "--builder", "html", "-W", "-n"],
                            env=smoke_env(), capture_output=True, text=True, timeout=600)
    result = run()
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    page = (book / "_build" / "html" / "numbers.html").read_text()
    assert "The median was 91.2% on h2." in re.sub(r"<[^>]+>", "", page)   # the newest file
    assert "91.23% (target met)" in page and "not measured yet" in page     # a target with no file
    assert "something else" in page and "3.5 ms" in page                    # other measurements

    (book / "numbers.md").write_text(NUMBERS.replace("median_test_accuracy", "median_accuracy"))
    result = run()
    assert result.returncode != 0 and "has no 'median_accuracy'" in result.stdout + result.stderr
