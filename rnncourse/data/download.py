"""Downloading the course's datasets safely: from a mirror folder or URL, else their official homes.

``download(name)`` makes dataset ``name`` ready in the cache and returns its path; a second call
returns at once from the cache, without network. ``rnncourse download NAME``
(:mod:`rnncourse.data.download_command`) does the same from a shell (an instructor runs
``rnncourse download all`` once before class).

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

import errno
import hashlib
import http.client
import os
import re
import shutil
import socket
import stat
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable

from rnncourse.runtime.processes import pid_alive

__all__ = ["DataError", "SOURCES", "cache_dir", "download", "mirror_location"]

DATA_ENV = "RNNCOURSE_DATA"
MIRROR_ENV = "RNNCOURSE_MIRROR"
CHUNK = 1 << 20
TIMEOUT_S = 60


class DataError(RuntimeError):
    """A dataset could not be made ready; the message says what happened and what to do."""


class DownloadError(DataError):
    """No origin (mirror or official address) delivered the file."""


class ChecksumError(DataError):
    """A delivered file failed verification; it was removed."""


class ArchiveError(DataError):
    """An archive is corrupt, unsafe, or its content is not the dataset; it was removed."""


class DiskFullError(DataError):
    """The disk holding the cache ran out of space; partial files were removed."""


# --------------------------------------------------------------------------------------------
# The datasets
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Where things are
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Temporary names, clean-up
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------


def _open_url(url: str) -> BinaryIO:
    """Open ``url`` for reading (the one place that touches the network; tests replace it)."""
    from rnncourse import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"rnncourse/{__version__} (Python urllib)"})
    return urllib.request.urlopen(request, timeout=TIMEOUT_S)


def _describe(exc: BaseException) -> str:
    """An error of opening or reading, in a few words."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, socket.gaierror):
            return f"cannot resolve the server's name, no network? ({reason})"
        return str(reason)
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"no answer within {TIMEOUT_S} s"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@dataclass
class _Origin:
    label: str  # "mirror" or "official address"
    where: str  # path or URL, for messages
    open: Callable[[], tuple[BinaryIO, int | None]]


def _origins(source: Source, mirror: str | None) -> list[_Origin]:
    origins = []
    if mirror is not None:
        folder = _mirror_folder(mirror)
        if folder is not None:
            path = folder / source.filename

            def open_file(path=path):
                return open(path, "rb"), path.stat().st_size

            origins.append(_Origin("mirror", str(path), open_file))
        else:
            url = mirror.rstrip("/") + "/" + urllib.parse.quote(source.filename)
            origins.append(_Origin("mirror", url, lambda url=url: _open_response(url)))
    origins.append(_Origin("official address", source.url, lambda: _open_response(source.url)))
    return origins


def _open_response(url: str) -> tuple[BinaryIO, int | None]:
    response = _open_url(url)
    length = getattr(response, "headers", {}).get("Content-Length")
    return response, int(length) if length and str(length).isdigit() else None


def _mirror_sums(mirror: str | None) -> dict[str, str] | None:
    """The mirror's ``SHA256SUMS`` as {file name: digest}, or ``None`` when it has none."""
    if mirror is None:
        return None
    try:
        folder = _mirror_folder(mirror)
        if folder is not None:
            text = (folder / "SHA256SUMS").read_text(encoding="utf-8")
        else:
            with _open_url(mirror.rstrip("/") + "/SHA256SUMS") as response:
                text = response.read(1 << 20).decode("utf-8")
    except (OSError, urllib.error.URLError, UnicodeDecodeError, ValueError):
        return None
    sums = {}
    for line in text.splitlines():
        match = re.match(r"^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$", line)
        if match:
            sums[match[2]] = match[1].lower()
    return sums


class _OriginFailed(Exception):
    """Opening or reading an origin failed (as opposed to writing into the cache)."""


_READ_ERRORS = (OSError, urllib.error.URLError, http.client.HTTPException, EOFError, ValueError)


def _transfer(stream: BinaryIO, size: int | None, out: BinaryIO, description: str, quiet: bool) -> str:
    """Copy ``stream`` into ``out`` with a progress bar; return the sha256 of what was copied.

    Errors of reading are raised as ``_OriginFailed``; errors of writing (a full disk) as they are.
    """
    from rnncourse.runtime.progress import progress_bar

    digest = hashlib.sha256()
    copied = 0
    with progress_bar(
        total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=description, disable=quiet,
        file=sys.stderr, mininterval=0.5, dynamic_ncols=True,
    ) as bar:
        while True:
            try:
                chunk = stream.read(CHUNK)
            except _READ_ERRORS as exc:
                raise _OriginFailed(_describe(exc)) from exc
            if not chunk:
                break
            out.write(chunk)
            digest.update(chunk)
            copied += len(chunk)
            bar.update(len(chunk))
    if size is not None and copied != size:
        raise _OriginFailed(f"the transfer ended after {copied:,} of {size:,} bytes")
    return digest.hexdigest()


def _say(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def _fetch(source: Source, folder: Path, mirror: str | None, quiet: bool) -> tuple[Path, str]:
    """Stream the file from the first origin that delivers it into a temporary file in ``folder``.

    Returns the temporary file and how its digest was verified (a phrase for messages). Raises
    ``ChecksumError`` (file removed), ``DownloadError`` (every origin failed), ``DiskFullError``.
    Whatever happens, including Ctrl-C, no temporary file is left behind unless it is returned.
    """
    failures = []
    for origin in _origins(source, mirror):
        partial = _temp_name(folder, source.filename, "part")
        try:
            try:
                stream, size = origin.open()
            except _READ_ERRORS as exc:
                raise _OriginFailed(_describe(exc)) from exc
            with stream, open(partial, "wb") as out:
                _say(f"{source.name}: fetching {source.filename} from the {origin.label} {origin.where}", quiet)
                digest = _transfer(stream, size, out, source.name, quiet)
        except _OriginFailed as exc:
            _remove(partial)
            failures.append(f"the {origin.label} {origin.where}: {exc}")
            continue
        except BaseException as exc:
            _remove(partial)
            if _is_disk_full(exc):
                raise _disk_full(source, folder) from None
            if isinstance(exc, OSError):
                raise DataError(
                    f"Cannot write into the cache folder {folder} ({exc.strerror or exc}). Set {DATA_ENV} "
                    f"to a folder you can write to."
                ) from exc
            raise  # Ctrl-C or a bug: the partial file is gone already
        sums = _mirror_sums(mirror) if origin.label == "mirror" and digest not in source.sha256 else None
        how = _verdict(source, digest, origin, sums)
        if how is None:
            _remove(partial)
            raise ChecksumError(_checksum_message(source, digest, origin, sums))
        return partial, how
    raise DownloadError(_no_origin_message(source, mirror, failures))


def _verdict(source: Source, digest: str, origin: _Origin, sums: dict[str, str] | None) -> str | None:
    if digest in source.sha256:
        return "the pinned sha256" if digest == source.sha256[0] else "the pinned sha256 of a known variant"
    if origin.label == "mirror" and sums and sums.get(source.filename) == digest:
        return "the mirror's SHA256SUMS"
    if origin.label == "official address" and source.updated_upstream:
        return "its official address (the file is updated there, so its digest is not pinned)"
    return None


def _checksum_message(source: Source, digest: str, origin: _Origin, sums: dict[str, str] | None) -> str:
    listed = (sums or {}).get(source.filename)
    expected = f"the official file's {source.sha256[0]}"
    if len(source.sha256) > 1:
        expected += f" or a known variant's {', '.join(source.sha256[1:])}"
    if listed:
        expected += f", or {listed} from the mirror's SHA256SUMS"
    if origin.label == "mirror":
        advice = (
            f"Replace the mirror's copy with a fresh one from {source.url} (or list its sha256 in the "
            f"mirror's SHA256SUMS if it is a deliberate variant), or unset {MIRROR_ENV} to download "
            f"from the official address."
        )
    else:
        advice = "The download was damaged or the file changed at its source; run the command again."
    return (
        f"{source.filename} from the {origin.label} ({origin.where}) failed verification: its sha256 is "
        f"{digest}, expected {expected}. The file was removed and the cache is unchanged. {advice}"
    )


def _no_origin_message(source: Source, mirror: str | None, failures: list[str]) -> str:
    tried = "; ".join(failures)
    if mirror is None:
        hint = (
            f"No mirror is set. Connect to the internet and run again, or set {MIRROR_ENV} to a folder "
            f"or URL that holds {source.filename} (a classroom server), or set {DATA_ENV} to a cache "
            f"folder that already holds the dataset."
        )
    else:
        hint = (
            f"Put {source.filename} into the mirror ({MIRROR_ENV}={mirror}), or connect to the internet, "
            f"or set {DATA_ENV} to a cache folder that already holds the dataset."
        )
    return f"Could not download {source.name} ({source.filename}, {source.size}). Tried {tried}. {hint}"


# --------------------------------------------------------------------------------------------
# Extracting safely
# --------------------------------------------------------------------------------------------


def _safe_relative(name: str) -> PurePosixPath:
    """The member name as a relative path inside the target, or ``ArchiveError``."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name) or ".." in path.parts:
        raise ArchiveError(f"member {name!r} would be written outside the target folder")
    return path


def _extract_tar(archive: Path, dest: Path) -> None:
    """Write the archive's folders and regular files under ``dest``; refuse anything else.

    Names are checked before anything is written, and links are refused, so no path can lead
    outside ``dest``. Files get default permissions (the archive's modes, owners and times are not
    applied). This is also 2-3x cheaper than ``tarfile``'s own ``extractall`` for IMDB's 50,000
    small files.
    """
    made: set[Path] = set()
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            path = dest.joinpath(*_safe_relative(member.name).parts)
            if member.isdir():
                path.mkdir(parents=True, exist_ok=True)
                made.add(path)
                continue
            if not member.isfile():
                raise ArchiveError(f"member {member.name!r} is a link or special file; the datasets have none")
            if path == dest:
                raise ArchiveError(f"member {member.name!r} is a file without a name")
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            with tar.extractfile(member) as data, open(path, "wb") as out:
                shutil.copyfileobj(data, out, CHUNK)


def _extract_zip(archive: Path, dest: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            _safe_relative(info.filename)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ArchiveError(f"member {info.filename!r} is a link; the datasets have none")
            zf.extract(info, dest)


def _extract(source: Source, archive: Path, folder: Path) -> str:
    """Extract ``archive`` into a temporary folder, check it, and rename it into place.

    Returns the content check's description of what was extracted.
    """
    staging = _temp_name(folder, source.unpack_to, "tmp")
    _remove(staging)
    try:
        staging.mkdir()
        if zipfile.is_zipfile(archive):
            _extract_zip(archive, staging)
        else:
            _extract_tar(archive, staging)
        root = staging / source.archive_root if source.archive_root else staging
        if not root.is_dir():
            raise ArchiveError(f"it has no top-level folder {source.archive_root!r}")
        what = source.check(root)
        final = folder / source.unpack_to
        try:
            os.rename(root, final)
        except OSError:
            if not final.is_dir():  # a concurrent process finishing first is fine; anything else is not
                raise
    except (tarfile.TarError, zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error) as exc:
        raise ArchiveError(f"it is not a readable archive ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        if _is_disk_full(exc):
            raise _disk_full(source, folder) from None
        if exc.errno is None:  # gzip.BadGzipFile and other format errors
            raise ArchiveError(f"it is not a readable archive ({type(exc).__name__}: {exc})") from None
        raise
    finally:
        _remove(staging)
    return what


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------


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
