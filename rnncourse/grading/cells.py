"""What a notebook's cells say about grading: their nbgrader metadata and the headings above them.

Works on nbformat notebooks and on plain notebook JSON alike (a cell's ``source`` as a string or
a list of lines), so the book's Sphinx extension reads exercise lists with the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["cell_text", "exercise_titles", "grade_id", "heading_above", "manual_title", "nbgrader", "test_cells"]


def nbgrader(cell: Mapping) -> dict:
    """The cell's nbgrader metadata (``grade_id``, ``points``, ``grade``, ``locked``, ...); ``{}``."""
    return (cell.get("metadata") or {}).get("nbgrader") or {}


def grade_id(cell: Mapping) -> str | None:
    return nbgrader(cell).get("grade_id")


def cell_text(cell: Mapping) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _heading(cell: Mapping) -> str | None:
    """The last markdown heading line of ``cell`` (``### Exercise 2: ...`` -> ``Exercise 2: ...``)."""
    if cell.get("cell_type") != "markdown":
        return None
    found = [line.lstrip("#").strip() for line in cell_text(cell).splitlines() if line.startswith("#")]
    return found[-1] if found else None


def heading_above(cells: Sequence[Mapping], index: int) -> str:
    """The nearest markdown heading at or above cell ``index``; ``""`` when there is none."""
    for cell in reversed(cells[: index + 1]):
        heading = _heading(cell)
        if heading:
            return heading
    return ""


def test_cells(nb: Mapping) -> list[int]:
    """Indices of the autograded test cells: nbgrader ``grade`` code cells that are not answers."""
    return [i for i, c in enumerate(nb["cells"])
            if c.get("cell_type") == "code" and nbgrader(c).get("grade") and not nbgrader(c).get("solution")]


def exercise_titles(nb: Mapping) -> dict[int, str]:
    """``{test cell index: "Exercise 2: ..."}`` from the nearest heading above each test cell."""
    cells = nb["cells"]
    return {i: heading_above(cells, i) or grade_id(cells[i]) or f"cell {i}" for i in test_cells(nb)}


def manual_title(nb: Mapping, gid: str) -> str:
    """The heading above the cell ``gid`` (a written answer graded by hand), or ``gid`` itself."""
    cells = nb["cells"]
    return next((heading_above(cells, i) or gid for i, c in enumerate(cells) if grade_id(c) == gid), gid)
