"""Assignments: building release notebooks from solutions/, self-checks and class autograding.

Needs the ``grade`` extra (nbgrader, jupytext): ``pip install "rnncourse[grade]"``.

:func:`grade_class` grades a class's submissions (what ``rnncourse grade`` runs);
:func:`grade_notebooks` grades a few notebooks of one assignment the same way and returns
the points of each exercise (what the course's own tests use). Both are imported on first use:
the sandboxed kernel imports :mod:`rnncourse.grading.guard` and must not pay for nbgrader.
"""

__all__ = ["grade_class", "grade_notebooks"]


def __getattr__(name: str):
    if name in __all__:
        from rnncourse.grading import grade

        return getattr(grade, name)
    raise AttributeError(f"module 'rnncourse.grading' has no attribute {name!r}")
