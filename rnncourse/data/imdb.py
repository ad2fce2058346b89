"""IMDB's files: reading the extracted ``aclImdb`` folder, its parsed cache, cleaning, splitting.

No torch here: ``rnncourse download imdb`` builds the parsed cache without importing it. The
``IMDB`` dataset (``rnncourse.data.corpora``) stands on these functions.

Parsed cache: ``<cache>/imdb/parsed/{train,test}.v1.json``, one JSON document per split with the
lists ``texts`` (raw), ``labels`` (0 neg, 1 pos), ``ratings`` (1-10) and ``movies`` (IMDb title id),
written atomically beside the extracted folder. Reading it takes about a second instead of
opening 25,000 files.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Sequence

from rnncourse.data.download import download
from rnncourse.data.sources import _remove_stale_temporaries, _temp_name
from rnncourse.runtime.files import atomic_path

__all__ = ["clean_review", "load_split", "movie_split", "balanced_subset", "prepare_imdb"]

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?(?:i|b|u|em|strong|p|hr|span|div|font)\b[^<>]{0,100}>", re.IGNORECASE)
_ENTITY = re.compile(r"&#(\d{1,7});")


def clean_review(text: str) -> str:
    """Undo the HTML left in IMDB reviews: ``<br />`` and formatting tags become spaces,
    numeric entities (``&#345;``) their characters, runs of white space one space.

    Angle brackets that are not HTML stay (``<3``, ``<SPOILER>``, ``< 90 minutes``).
    """
    text = _BREAK.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _ENTITY.sub(lambda m: chr(int(m[1])) if int(m[1]) <= 0x10FFFF else " ", text)
    return " ".join(text.split())


_PARSED_VERSION = 1


def read_split(root: Path, split: str) -> dict[str, list]:
    """Every labelled review of ``aclImdb/<split>``, in (label, review id) order.

    Review ``<id>_<rating>.txt`` in ``pos``/``neg`` was written about the movie on line ``id`` of
    ``urls_pos.txt``/``urls_neg.txt``.
    """
    records: dict[str, list] = {"texts": [], "labels": [], "ratings": [], "movies": []}
    for label, name in enumerate(("neg", "pos")):
        urls = (root / split / f"urls_{name}.txt").read_text(encoding="utf-8").splitlines()
        movies = [m[0] if (m := re.search(r"tt\d+", url)) else url for url in urls]
        files = []
        with os.scandir(root / split / name) as entries:
            for entry in entries:
                match = re.fullmatch(r"(\d+)_(\d+)\.txt", entry.name)
                if match:
                    files.append((int(match[1]), int(match[2]), entry.path))
        for review_id, rating, path in sorted(files):
            with open(path, encoding="utf-8") as f:
                records["texts"].append(f.read())
            records["labels"].append(label)
            records["ratings"].append(rating)
            records["movies"].append(movies[review_id])
    return records


def _parsed_path(root: Path, split: str) -> Path:
    return root.parent / "parsed" / f"{split}.v{_PARSED_VERSION}.json"


def load_split(root: Path, split: str) -> dict[str, list]:
    """One split's records from the parsed cache (one JSON file), building it on first use.

    The cache is written atomically (temporary name, then rename); a cache folder that cannot be
    written (a read-only classroom share) just means parsing from the folder every time. The last
    split read stays in memory (``IMDB("train")`` and ``IMDB("valid")`` read the same one); treat
    the records as read-only.
    """
    return _load_split(str(root), split)


@functools.lru_cache(maxsize=1)
def _load_split(root_name: str, split: str) -> dict[str, list]:
    root = Path(root_name)
    path = _parsed_path(root, split)
    try:
        with open(path, encoding="utf-8") as f:
            records = json.load(f)
        if records.get("version") == _PARSED_VERSION:
            return records
    except (OSError, ValueError, KeyError):
        pass
    records = {"version": _PARSED_VERSION, **read_split(root, split)}
    try:
        path.parent.mkdir(exist_ok=True)
        _remove_stale_temporaries(path.parent)
        with atomic_path(path, tmp=_temp_name(path.parent, path.name, "tmp")) as temporary:
            with open(temporary, "w", encoding="utf-8") as f:
                json.dump(records, f, ensure_ascii=False)
    except OSError:
        pass  # a read-only or full cache: parse again next time
    return records


def prepare_imdb(root: Path | None = None) -> bool:
    """Build IMDB's parsed cache unless it is there (``rnncourse download imdb`` calls this).

    Returns whether anything was built.
    """
    root = download("imdb") if root is None else root
    missing = [split for split in ("train", "test") if not _parsed_path(root, split).is_file()]
    for split in missing:
        load_split(root, split)
    return bool(missing)


def movie_split(labels: Sequence[int], movies: Sequence[str], valid_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices (train, valid): whole movies go to validation until each class has its share.

    IMDB has up to 30 reviews per movie, and the official test set's movies are disjoint from
    training's. Splitting by movie keeps that property, so validation accuracy estimates test
    accuracy instead of rewarding memorised actor and title names. Movies are visited in a seeded
    order; one is taken when it fits both class quotas (``round(valid_fraction * class size)``),
    so the split is deterministic and balanced to within a few reviews.
    """
    rng = random.Random(seed)
    by_movie: dict[str, list[int]] = defaultdict(list)
    for index, movie in enumerate(movies):
        by_movie[movie].append(index)
    order = sorted(by_movie)
    rng.shuffle(order)
    quota = [round(valid_fraction * sum(1 for y in labels if y == c)) for c in (0, 1)]
    taken = [0, 0]
    valid: list[int] = []
    for movie in order:
        counts = [sum(1 for i in by_movie[movie] if labels[i] == c) for c in (0, 1)]
        if all(taken[c] + counts[c] <= quota[c] for c in (0, 1)):
            valid.extend(by_movie[movie])
            taken = [taken[c] + counts[c] for c in (0, 1)]
            if taken == quota:
                break
    chosen = set(valid)
    train = [i for i in range(len(labels)) if i not in chosen]
    rng.shuffle(train)
    rng.shuffle(valid)
    return train, valid


def balanced_subset(indices: list[int], labels: Sequence[int], limit: int) -> list[int]:
    """The first ``limit // 2`` negatives and ``limit - limit // 2`` positives of ``indices``, in order."""
    quota = [limit // 2, limit - limit // 2]
    taken = [0, 0]
    subset = []
    for i in indices:
        if taken[labels[i]] < quota[labels[i]]:
            subset.append(i)
            taken[labels[i]] += 1
    return subset


