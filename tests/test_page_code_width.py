"""Code in the book fits the text column: no code line of a page is longer than 90 characters.

The book's theme cuts longer lines off at the page width (the reader must scroll sideways, or
does not see the end of the line at all). Checked: every line of every code cell of the chapters
and every line of the fenced code blocks in the chapters' and the book's other pages.
"""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

LIMIT = 90
PAGES = sorted([*ROOT.glob("book/chapters/*.md"), *ROOT.glob("book/*.md")])
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})")


def _code_lines(path):
    """``(line number, text)`` of every line inside a code cell or a fenced code block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fence = None
    for number, line in enumerate(lines, 1):
        match = FENCE.match(line)
        if fence is None:
            if match and not line.strip().endswith(("{exercises}", "{tableofcontents}",
                                                   "{reference-numbers}")):
                fence = match.group(2)
            continue
        if match and match.group(2) == fence and line.strip() == fence:
            fence = None
            continue
        if fence is not None and not line.startswith(("---", ":")):
            yield number, line


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_code_lines_fit_the_page(path):
    long = [f"{path.relative_to(ROOT)}:{n}: {len(line)} characters: {line.strip()[:60]}..."
            for n, line in _code_lines(path) if len(line) > LIMIT]
    assert not long, f"{len(long)} code lines longer than {LIMIT} characters:\n" + "\n".join(long)
