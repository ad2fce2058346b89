"""Fetching: from the mirror (a folder or URL) first, then the official address, streamed to a
temporary name while its sha256 is computed, with progress."""

from __future__ import annotations

import hashlib
import http.client
import re
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from rnncourse.data.errors import DATA_ENV, MIRROR_ENV, ChecksumError, DataError, DownloadError
from rnncourse.data.sources import Source, _disk_full, _is_disk_full, _mirror_folder, _remove, _temp_name

CHUNK = 1 << 20
TIMEOUT_S = 60




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
