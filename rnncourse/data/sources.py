"""The datasets (:data:`SOURCES`), where they are cached and mirrored, and the temporary names
and clean-up that keep the cache whole."""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rnncourse.data.errors import DATA_ENV, MIRROR_ENV, DataError, DiskFullError
from rnncourse.data.verify import _check_fra_eng, _check_imdb, _check_shakespeare
from rnncourse.runtime.processes import pid_alive



@dataclass(frozen=True)
class Source:
    """One dataset: where it lives, how it is verified, what ``download`` returns.

    ``target`` is relative to the dataset's cache folder ``<cache>/<name>``. For an archive,
    ``unpack_to`` is the folder created from it, made of the archive member ``archive_root``
    (or of the whole archive when ``archive_root`` is empty).
    """

    name: str
    filename: str
    url: str
    sha256: tuple[str, ...]
    target: str
    check: Callable[[Path], str]
    archive: bool = False
    unpack_to: str = ""
    archive_root: str = ""
    updated_upstream: bool = False
    size: str = ""


SOURCES: dict[str, Source] = {
    "imdb": Source(
        name="imdb",
        filename="aclImdb_v1.tar.gz",
        url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        sha256=(
            "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",  # official, 84,125,825 bytes
            "3a5324eaedfe2123e754d5ff4b017ccacf9b8f2de647f06f3b9559b594cd301b",  # without train/unsup, *Bow.feat
        ),
        target="aclImdb",
        check=_check_imdb,
        archive=True,
        unpack_to="aclImdb",
        archive_root="aclImdb",
        size="84 MB",
    ),
    "shakespeare": Source(
        name="shakespeare",
        filename="tinyshakespeare.txt",
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        sha256=("86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",),
        target="tinyshakespeare.txt",
        check=_check_shakespeare,
        size="1.1 MB",
    ),
    "fra-eng": Source(
        name="fra-eng",
        filename="fra-eng.zip",
        url="https://www.manythings.org/anki/fra-eng.zip",
        sha256=("16c4f7d0df9e7c5e6c54cdb0447f3f4a18a55052ff5e2e0b27dd4a06c0e49d04",),  # file of 2017-09-29
        target="fra-eng/fra.txt",
        check=_check_fra_eng,
        archive=True,
        unpack_to="fra-eng",
        updated_upstream=True,
        size="3-8 MB",
    ),
}




def cache_dir() -> Path:
    """The cache folder: ``$RNNCOURSE_DATA``, else the platform's user cache folder + ``rnncourse``.

    Nothing is created here; ``download`` creates what it needs.
    """
    value = os.environ.get(DATA_ENV, "").strip()
    if value:
        return Path(value).expanduser().absolute()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "rnncourse" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "rnncourse"
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "rnncourse"


def mirror_location() -> str | None:
    """``$RNNCOURSE_MIRROR`` (a folder made absolute, or a URL), or ``None`` when unset."""
    value = os.environ.get(MIRROR_ENV, "").strip()
    if not value:
        return None
    if re.match(r"^(https?|file)://", value, re.IGNORECASE):
        return value
    return str(Path(value).expanduser().absolute())


def _mirror_folder(mirror: str) -> Path | None:
    """The mirror as a local folder (for a folder path or a ``file://`` URL), else ``None``."""
    if mirror.lower().startswith("file://"):
        folder = Path(urllib.request.url2pathname(urllib.parse.urlparse(mirror).path))
    elif re.match(r"^https?://", mirror, re.IGNORECASE):
        return None
    else:
        folder = Path(mirror)
    if not folder.is_dir():
        raise DataError(
            f"{MIRROR_ENV}={os.environ.get(MIRROR_ENV)!r} is not an existing folder (nor an http(s):// "
            f"URL). Point it at the folder that holds the course's data files, or unset it to download "
            f"from the official addresses."
        )
    return folder



_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def _temp_name(folder: Path, name: str, suffix: str) -> Path:
    return folder / f".{name}~{_HOST}~{os.getpid()}.{suffix}"


def _remove(path: Path) -> None:
    """Remove a file or a folder tree if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)  # what we extract is always writable by us: no modes are applied
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _remove_stale_temporaries(folder: Path) -> None:
    """Remove temporaries left by a killed process (same host, process gone; elsewhere: a day old)."""
    pattern = re.compile(r"^\..+~(?P<host>[A-Za-z0-9-]+)~(?P<pid>\d+)\.(part|tmp)$")
    for entry in folder.iterdir():
        match = pattern.match(entry.name)
        if not match:
            continue
        if sys.platform != "win32" and match["host"] == _HOST:
            stale = not pid_alive(int(match["pid"]))
        else:  # another machine sharing the cache, or Windows (no safe liveness probe)
            stale = time.time() - entry.lstat().st_mtime > 86_400
        if stale:
            _remove(entry)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def _disk_full(source: Source, folder: Path) -> DiskFullError:
    free = shutil.disk_usage(folder if folder.exists() else folder.parent).free
    return DiskFullError(
        f"The disk holding the cache ({folder}) is full while preparing {source.name} ({source.size}); "
        f"{free / 2**20:,.0f} MB are free. The partial files were removed. Free some space, or set "
        f"{DATA_ENV} to a folder on a larger disk, then run again."
    )
