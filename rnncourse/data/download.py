"""Downloading the course's datasets safely: from a mirror folder or URL, else their official homes.

``download(name)`` makes dataset ``name`` ready in the cache and returns its path; a second call
returns at once from the cache, without network. ``rnncourse download NAME``
(:mod:`rnncourse.data.download_command`) does the same from a shell (an instructor runs
``rnncourse download all`` once before class).

This module holds the entry point, :func:`download`; the three concerns under it each have a module:
:mod:`~rnncourse.data.fetch` (the mirror, then the official address, streamed with its sha256 and
the digest's verdict), :mod:`~rnncourse.data.verify` (each dataset's content check) and
:mod:`~rnncourse.data.extract` (archives, safely). :mod:`~rnncourse.data.sources` lists the
datasets and names the cache's files; :mod:`~rnncourse.data.errors` holds what can go wrong.

Environment variables
---------------------
``RNNCOURSE_DATA``    the cache folder. Default: the platform's user cache folder plus
                      ``rnncourse``: ``$XDG_CACHE_HOME/rnncourse`` or ``~/.cache/rnncourse`` on Linux,
                      ``~/Library/Caches/rnncourse`` on macOS, ``%LOCALAPPDATA%\\rnncourse\\Cache`` on
                      Windows. A classroom can point everyone at one prepared folder.
``RNNCOURSE_MIRROR``  a folder, a ``file://`` URL or an ``http(s)://`` base URL holding the files
                      below under the same names; it is tried before the internet. A file missing
                      from the mirror, or a mirror that cannot be reached, falls back to the official
                      address; a mirror file that fails verification is an error (fix the mirror).

Mirror layout (flat)::

    aclImdb_v1.tar.gz      IMDB (the official tarball, or the variant without train/unsup)
    tinyshakespeare.txt    tiny-shakespeare (the official input.txt, renamed)
    fra-eng.zip            English-French pairs (any version from manythings.org/anki)
    SHA256SUMS             optional: ``<sha256>  <file name>`` lines, as ``sha256sum`` writes them

Cache layout::

    <cache>/imdb/aclImdb_v1.tar.gz     the verified archive (kept: re-extraction needs no network)
    <cache>/imdb/aclImdb/               what download("imdb") returns
    <cache>/shakespeare/tinyshakespeare.txt
    <cache>/fra-eng/fra-eng.zip
    <cache>/fra-eng/fra-eng/fra.txt     what download("fra-eng") returns

Verification: no file is ever accepted unverified
-------------------------------------------------
A file is streamed to a temporary name (``.NAME~host~pid.part``) while its sha256 is computed.
It is then accepted if its sha256 is

1. one of the pinned digests of the dataset (the official file, and known published variants such
   as the IMDB archive without the 50,000 unlabelled reviews), or
2. listed for that file name in the mirror's ``SHA256SUMS`` (a classroom server's own copies), or
3. for fra-eng only, fetched from the official address: manythings.org updates that file in
   place, so its digest cannot be pinned.

and, in every case, its content passes the dataset's check: IMDB has four folders
(``train``/``test`` x ``pos``/``neg``) of exactly 12,500 reviews; tiny-shakespeare is UTF-8 text of
over a million characters starting with "First Citizen:"; fra-eng has a ``fra.txt`` of at least
100,000 ``English<TAB>French[<TAB>attribution]`` lines. Archives are extracted into a temporary
folder (members with absolute paths, ``..`` or links are refused), checked, and only then renamed
into place. On any failure (network, checksum, corrupt archive, full disk, Ctrl-C) the temporary
files are removed and the cache is left as it was. Leftovers of a killed process are removed by the
next call.

Datasets, their homes and terms
-------------------------------
- ``imdb``: Large Movie Review Dataset v1.0, https://ai.stanford.edu/~amaas/data/sentiment/.
  No explicit licence; cite Maas et al., "Learning Word Vectors for Sentiment Analysis",
  ACL-HLT 2011, pp. 142-150. The reviews are IMDb user content: use them for teaching and
  research, and do not redistribute them.
- ``shakespeare``: tiny-shakespeare from karpathy/char-rnn; Shakespeare's text is in the public
  domain.
- ``fra-eng``: English-French sentence pairs from the Tatoeba project via
  https://www.manythings.org/anki/, CC-BY 2.0 (France): attribute tatoeba.org and
  manythings.org/anki.
"""

from __future__ import annotations

import os
from pathlib import Path

from rnncourse.data.errors import DATA_ENV, MIRROR_ENV, ArchiveError, DataError
from rnncourse.data.extract import _extract
from rnncourse.data.fetch import _fetch, _say
from rnncourse.data.sources import (SOURCES, Source, _remove, _remove_if_empty, _remove_stale_temporaries, cache_dir,
                                    mirror_location)

__all__ = ["DataError", "SOURCES", "cache_dir", "download", "mirror_location"]




def download(name: str, *, quiet: bool = False) -> Path:
    """Make dataset ``name`` ready in the cache and return its path.

    Args:
        name: ``"imdb"``, ``"shakespeare"`` or ``"fra-eng"``.
        quiet: no progress bar and no messages (errors are still raised).

    Returns:
        ``imdb``: the extracted ``aclImdb`` folder; ``shakespeare``: the ``.txt`` file;
        ``fra-eng``: the extracted ``fra.txt``.

    The first call fetches from ``$RNNCOURSE_MIRROR`` (if set) or the official address, verifies
    and extracts (see the module's documentation); later calls return from the cache without
    network. Raises ``DataError`` (or a subclass) with a message that says what to do.
    """
    if name not in SOURCES:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(SOURCES)}.")
    source = SOURCES[name]
    folder = cache_dir() / source.name
    ready = folder / source.target
    if ready.exists():
        return ready
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"Cannot create the cache folder {folder} ({exc.strerror or exc}). Set {DATA_ENV} to a "
            f"folder you can write to."
        ) from None
    _remove_stale_temporaries(folder)
    try:
        _prepare(source, folder, quiet)
    except BaseException:
        _remove_if_empty(folder)
        raise
    return ready


def _prepare(source: Source, folder: Path, quiet: bool) -> None:
    stored = folder / source.filename
    if not source.archive:
        partial, how = _fetch(source, folder, mirror_location(), quiet)
        try:
            what = _checked(source, partial, how)
            os.replace(partial, stored)
        finally:
            _remove(partial)
        _say(f"{source.name}: verified ({how}; {what}) -> {stored}", quiet)
        return
    if stored.exists():  # verified when it was stored; only the extraction is missing
        _say(f"{source.name}: extracting {stored}", quiet)
        try:
            what = _extract(source, stored, folder)
        except ArchiveError as exc:
            _remove(stored)
            raise ArchiveError(
                f"The cached {stored} could not be used: {exc}. It was removed; run again to fetch a fresh copy."
            ) from None
        _say(f"{source.name}: ready ({what}) -> {folder / source.target}", quiet)
        return
    partial, how = _fetch(source, folder, mirror_location(), quiet)
    try:
        _say(f"{source.name}: sha256 verified by {how}; extracting", quiet)
        try:
            what = _extract(source, partial, folder)
        except ArchiveError as exc:
            raise ArchiveError(
                f"{source.filename} was rejected: {exc}. It was removed and the cache is unchanged. "
                f"Run again to fetch a fresh copy; if this repeats, the file at its origin is damaged "
                f"(replace the mirror's copy, or unset {MIRROR_ENV})."
            ) from None
        os.replace(partial, stored)
    finally:
        _remove(partial)
    _say(f"{source.name}: ready ({what}) -> {folder / source.target}", quiet)


def _checked(source: Source, path: Path, how: str) -> str:
    try:
        return source.check(path)
    except ArchiveError as exc:
        raise ArchiveError(
            f"{source.filename} was verified by {how} but is not the dataset: {exc}. It was removed and "
            f"the cache is unchanged."
        ) from None
