"""Progress bars redraw in place in a terminal, and print a line now and then into a log."""

from __future__ import annotations

import io
import time

from rnncourse.runtime.progress import progress_bar


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_into_a_log_the_bar_prints_a_few_whole_lines(monkeypatch):
    monkeypatch.setenv("RNNCOURSE_PROGRESS_SECONDS", "3600")
    log = io.StringIO()
    with progress_bar(total=5000, desc="fit", unit="batch", file=log) as bar:
        for _ in range(5000):
            bar.update(1)
    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert 1 <= len(lines) <= 3, lines           # the first state and the last, not 5000 redraws
    assert lines[-1].startswith("fit: 100%") and "5000/5000" in lines[-1]


def test_the_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("RNNCOURSE_PROGRESS_SECONDS", "0")
    log = io.StringIO()
    with progress_bar(total=20, file=log) as bar:
        for _ in range(20):
            bar.update(1)
    assert len(log.getvalue().splitlines()) >= 20   # interval 0: every update is a line


def test_in_a_terminal_the_bar_redraws_in_place():
    term = _Terminal()
    with progress_bar(total=100, file=term, mininterval=0) as bar:
        for _ in range(100):
            bar.update(1)
    assert term.getvalue().count("\r") >= 10


def test_lines_can_be_asked_for_even_where_the_bar_would_redraw(monkeypatch):
    monkeypatch.setenv("RNNCOURSE_PROGRESS", "lines")
    monkeypatch.setenv("RNNCOURSE_PROGRESS_SECONDS", "3600")
    term = _Terminal()
    with progress_bar(total=100, file=term) as bar:
        for _ in range(100):
            bar.update(1)
    assert "\r" not in term.getvalue() and len(term.getvalue().splitlines()) <= 3


def test_asked_for_lines_short_work_prints_nothing(monkeypatch):
    """The book's pages: no 0% and 100% lines for a job that took a moment."""
    monkeypatch.setenv("RNNCOURSE_PROGRESS", "lines")
    monkeypatch.setenv("RNNCOURSE_PROGRESS_SECONDS", "3600")
    log = io.StringIO()
    with progress_bar(total=100, desc="fit", file=log) as bar:
        for _ in range(100):
            bar.update(1)
    assert log.getvalue() == ""


def test_asked_for_lines_long_work_still_shows_progress(monkeypatch):
    monkeypatch.setenv("RNNCOURSE_PROGRESS", "lines")
    monkeypatch.setenv("RNNCOURSE_PROGRESS_SECONDS", "0.05")
    log = io.StringIO()
    with progress_bar(total=4, desc="fit", file=log) as bar:
        for _ in range(4):
            time.sleep(0.06)
            bar.update(1)
    lines = log.getvalue().splitlines()
    assert len(lines) >= 2 and lines[-1].startswith("fit: 100%"), lines
