"""``make exercises``: regenerate the notebooks that are generated, never edited by hand.

* ``exercises/NN-slug/NN-slug.ipynb``: the student version of ``solutions/NN-slug`` (nbgrader
  ``generate_assignment``: answers and hidden tests removed).
* ``notebooks/NN-slug.ipynb``: each book chapter ``book/chapters/NN-slug.md`` as a plain notebook
  without outputs, which the book's Colab and Binder buttons open.

Usage: ``python -m rnncourse.grading.release [--check]``. The output is deterministic, so
regenerating unchanged sources gives no diff; ``--check`` writes nothing and exits 1 when a
generated file is stale.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import nbformat

from rnncourse.runtime.files import write_atomically
from rnncourse.grading.assignments import (
    assignment_names,
    make_course,
    normalise,
    release_notebook,
    repo_root,
    with_setup_cell,
)


def exercise_files(names: list[str] | None = None) -> dict[Path, str]:
    """``{exercises/NN/NN.ipynb: text}`` for the given assignments (default: all)."""
    names = names or assignment_names()
    with tempfile.TemporaryDirectory(prefix="rnncourse-release-") as tmp:
        course = make_course(Path(tmp) / "course", names)
        return {repo_root() / "exercises" / n / f"{n}.ipynb": release_notebook(course, n) for n in names}


def chapter_notebook_files() -> dict[Path, str]:
    """``{notebooks/NN-slug.ipynb: text}`` for every chapter of the book."""
    import jupytext

    files = {}
    for chapter in sorted((repo_root() / "book" / "chapters").glob("[0-9][0-9]-*.md")):
        nb = normalise(with_setup_cell(jupytext.read(chapter)), chapter.stem)
        files[repo_root() / "notebooks" / f"{chapter.stem}.ipynb"] = nbformat.writes(nb) + "\n"
    return files


def generated_files() -> dict[Path, str]:
    """Every generated notebook with the text it should have now."""
    return {**exercise_files(), **chapter_notebook_files()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale files, write nothing")
    args = parser.parse_args(argv)
    root = repo_root()
    expected = generated_files()
    stale = [p for p, text in expected.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    orphans = [
        p for p in [*root.glob("exercises/*/*.ipynb"), *root.glob("notebooks/*.ipynb")] if p not in expected
    ]
    for path in sorted(expected):
        state = ("STALE" if args.check else "wrote") if path in stale else "up to date"
        print(f"{state:<11} {path.relative_to(root)}")
    for path in orphans:
        print(f"{'ORPHAN' if args.check else 'removed':<11} {path.relative_to(root)} (no source)")
    if args.check:
        if stale or orphans:
            print("Run `make exercises` to regenerate them.", file=sys.stderr)
            return 1
        return 0
    for path in stale:
        write_atomically(path, expected[path])
    for path in orphans:
        path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
