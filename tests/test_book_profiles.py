"""The execution cache is kept per profile: a build under another profile re-executes the pages.

A tiny book (one notebook page that prints its profile) with the course's Sphinx extension is built
three times: under ``smoke``, under ``cpu`` (must execute again, not serve smoke's outputs), and
under ``smoke`` again (served from smoke's own cache, without executing).
"""

from __future__ import annotations

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
