"""``make exercises``: regenerate exercises/NN-slug/NN-slug.ipynb from solutions/.

Usage: ``python -m rnncourse.grading.release [NAME ...] [--check]``. Output is deterministic, so
regenerating an unchanged assignment gives no diff; ``--check`` only reports what is stale.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from rnncourse.grading.assignments import assignment_names, make_course, release_notebook, repo_root


def generate(names: list[str] | None = None) -> dict[str, str]:
    """``{name: release JSON}`` for the given assignments (default: all of solutions/)."""
    names = names or assignment_names()
    with tempfile.TemporaryDirectory(prefix="rnncourse-release-") as tmp:
        course = make_course(Path(tmp) / "course", names)
        return {name: release_notebook(course, name) for name in names}


def exercise_path(name: str) -> Path:
    return repo_root() / "exercises" / name / f"{name}.ipynb"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="assignments to regenerate (default: all)")
    parser.add_argument("--check", action="store_true", help="report stale exercises, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for name, text in generate(args.names).items():
        path = exercise_path(name)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            print(f"up to date  {path.relative_to(repo_root())}")
            continue
        stale.append(name)
        if args.check:
            print(f"STALE       {path.relative_to(repo_root())}")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".ipynb.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        print(f"wrote       {path.relative_to(repo_root())}")
    if args.check and stale:
        print("Run `make exercises` to regenerate them.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
