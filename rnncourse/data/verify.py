"""Verifying: a file is accepted only by its sha256 (pinned, the mirror's SHA256SUMS, or fra-eng's
official address) and its content (the dataset's own check); see :mod:`rnncourse.data.download`."""

from __future__ import annotations

import os
from pathlib import Path

from rnncourse.data.errors import ArchiveError




def _count_txt(folder: Path) -> int:
    with os.scandir(folder) as entries:
        return sum(1 for e in entries if e.name.endswith(".txt") and e.is_file())


def _check_imdb(root: Path) -> str:
    for split in ("train", "test"):
        for label in ("neg", "pos"):
            folder = root / split / label
            if not folder.is_dir():
                raise ArchiveError(f"it has no folder aclImdb/{split}/{label}")
            count = _count_txt(folder)
            if count != 12_500:
                raise ArchiveError(f"aclImdb/{split}/{label} holds {count:,} reviews instead of 12,500")
            if not (root / split / f"urls_{label}.txt").is_file():
                raise ArchiveError(f"it has no aclImdb/{split}/urls_{label}.txt")
    return "4 folders of 12,500 reviews"


def _check_shakespeare(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"it is not UTF-8 text ({exc})") from None
    if len(text) < 1_000_000 or not text.startswith("First Citizen:"):
        raise ArchiveError(f"it holds {len(text):,} characters, not tiny-shakespeare's 1,115,394")
    return f"{len(text):,} characters"


def _check_fra_eng(root: Path) -> str:
    path = root / "fra.txt"
    if not path.is_file():
        raise ArchiveError("it has no fra.txt")
    count = 0
    try:
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line:
                    continue
                fields = line.split("\t")
                if len(fields) not in (2, 3) or not fields[0].strip() or not fields[1].strip():
                    raise ArchiveError(f"fra.txt line {number} is not 'English<TAB>French': {line[:80]!r}")
                count += 1
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"fra.txt is not UTF-8 ({exc})") from None
    if count < 100_000:
        raise ArchiveError(f"fra.txt holds only {count:,} sentence pairs")
    return f"{count:,} sentence pairs"
