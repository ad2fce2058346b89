"""A class graded on several machines, merged into one gradebook.

Each machine grades its share of the class (``--roster shard-k.csv --roster-only``: only the
students on that roster) into its own ``OUT_k``. ``--merge OUT_1 --merge OUT_2 ...`` then copies
every shard's results and the notebooks they were graded from (``results/NAME/``,
``course/submitted/*/NAME/``, ``course/autograded/*/NAME/``) into ``OUT`` before grading: the
stored results are reused (the same submission, source and limits give the same key), so the
final run with the whole roster regrades nothing and builds one gradebook, one ``grades.csv``
and one LMS file. A student graded in two shards with different results is refused.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

__all__ = ["ShardError", "merge_shards"]


class ShardError(Exception):
    """The shards cannot be merged, said so an instructor can fix it."""


def _key(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("key")
    except (OSError, json.JSONDecodeError):
        return None


def merge_shards(out: Path, course: Path, shards: list[Path], name: str) -> int:
    """Copy the results of assignment ``name`` from every shard into ``out`` (and its notebooks
    into ``course``); return how many results were copied."""
    copied = 0
    owner: dict[str, Path] = {}
    for shard in shards:
        results = shard / "results" / name
        if not results.is_dir():
            raise ShardError(f"{shard} has no results of {name} (is it an --out folder of rnncourse grade?)")
        for result in sorted(results.glob("*.json")):
            student = result.stem
            target = out / "results" / name / result.name
            if student in owner and _key(owner[student] / "results" / name / result.name) != _key(result):
                raise ShardError(f"{student} was graded differently in {owner[student]} and {shard}; "
                                 "grade each student in one shard only")
            owner[student] = shard
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(result, target)
            for stage in ("submitted", "autograded"):
                folder = shard / "course" / stage / student / name
                if folder.is_dir():
                    shutil.copytree(folder, course / stage / student / name, dirs_exist_ok=True)
            copied += 1
    return copied
