"""Assignments: building release notebooks from solutions/, self-checks and class autograding.

Needs the ``grade`` extra (nbgrader, jupytext): ``pip install "rnncourse[grade]"``.
"""
