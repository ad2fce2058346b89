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
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(\S*)")


def _code_lines(path):
    """``(line number, text)`` of every line inside a code cell or a fenced code block (not inside
    other directives such as ``{exercises}``, nor a code cell's options block)."""
    fence, is_code, options = None, False, False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = FENCE.match(line)
        if fence is None:
            if match:
                fence, info = match.group(1), match.group(2)
                is_code = not info.startswith("{") or info == "{code-cell}"
                options = False
            continue
        if match and match.group(1) == fence and not match.group(2):
            fence = None
            continue
        if line.strip() == "---":  # a code cell's options block: --- ... ---
            options = not options
            continue
        if is_code and not options and not line.startswith(":"):
            yield number, line


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_code_lines_fit_the_page(path):
    long = [f"{path.relative_to(ROOT)}:{n}: {len(line)} characters: {line.strip()[:60]}..."
            for n, line in _code_lines(path) if len(line) > LIMIT]
    assert not long, f"{len(long)} code lines longer than {LIMIT} characters:\n" + "\n".join(long)
