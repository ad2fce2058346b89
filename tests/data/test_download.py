"""Downloads: mirror first, verification, safe extraction, a clean cache after every failure.

These tests use small files they make, registered as extra datasets in ``SOURCES``; the network
is replaced by a fake opener, so nothing here waits on DNS. The real datasets are tested in
``tests/data/test_datasets.py``.
"""

from __future__ import annotations

import builtins
import errno
import functools
import hashlib
import http.server
import importlib
import io
import os
import socket
import subprocess
import sys
import tarfile
import threading
import urllib.error
import zipfile
from pathlib import Path

import pytest

from rnncourse import cli
from rnncourse.data import DataError, cache_dir, download

dl = importlib.import_module("rnncourse.data.download")  # the module (``download`` is the function)
from rnncourse.data import errors, fetch, sources  # noqa: E402  (fetching, its errors, the cache's names)

TOY_TEXT = ("To be, or not to be, that is the question.\n" * 2000).encode()
TOY_URL = "https://example.invalid/toy.txt"
TOY_TAR_URL = "https://example.invalid/toy.tar.gz"
REAL_OPEN_URL = fetch._open_url


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_toy_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("To be"):
        raise errors.ArchiveError("it is not the toy text")
    return f"{len(text):,} characters"


def check_toy_tree(root: Path) -> str:
    count = len(list((root / "docs").glob("*.txt")))
    if count != 3:
        raise errors.ArchiveError(f"docs holds {count} files instead of 3")
    return "3 documents"


def make_tar(members: dict[str, bytes], *, links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()


GOOD_TREE = {f"toy/docs/{i}.txt": f"document {i}\n".encode() for i in range(3)}
GOOD_TAR = make_tar(GOOD_TREE)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if not p.is_dir()) if folder.exists() else []


def register(monkeypatch, name: str, **fields) -> sources.Source:
    source = sources.Source(name=name, size="1 kB", **fields)
    monkeypatch.setitem(sources.SOURCES, name, source)
    return source


def register_text(monkeypatch, data: bytes = TOY_TEXT, **fields) -> sources.Source:
    defaults = dict(filename="toy.txt", url=TOY_URL, sha256=(sha256(data),), target="toy.txt", check=check_toy_text)
    return register(monkeypatch, "toy", **{**defaults, **fields})


def register_tar(monkeypatch, data: bytes, **fields) -> sources.Source:
    defaults = dict(
        filename="toy.tar.gz", url=TOY_TAR_URL, sha256=(sha256(data),), target="toy", check=check_toy_tree,
        archive=True, unpack_to="toy", archive_root="toy",
    )
    return register(monkeypatch, "toytar", **{**defaults, **fields})


class FakeNetwork:
    """Stands in for ``_open_url``: serves ``files`` by URL, fails for anything else."""

    def __init__(self, files: dict[str, bytes] | None = None, fail_after: int | None = None, error=None):
        self.files = files or {}
        self.calls: list[str] = []
        self.fail_after = fail_after
        self.error = error or ConnectionResetError(104, "Connection reset by peer")

    def __call__(self, url: str):
        self.calls.append(url)
        if url not in self.files:
            raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))
        return FakeResponse(self.files[url], self.fail_after, self.error)


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes, fail_after: int | None, error: BaseException):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}
        self.fail_after = fail_after
        self.error = error

    def read(self, size: int = -1) -> bytes:
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise self.error
        return super().read(size if self.fail_after is None else min(size, self.fail_after - self.tell()))


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache, no mirror, and a network that reaches nothing."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("RNNCOURSE_DATA", str(folder))
    monkeypatch.delenv("RNNCOURSE_MIRROR", raising=False)
    monkeypatch.setattr(fetch, "_open_url", FakeNetwork())
    monkeypatch.setattr(fetch, "CHUNK", 4096)  # several chunks even for the small test files
    return folder


@pytest.fixture
def mirror(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "mirror"
    folder.mkdir()
    monkeypatch.setenv("RNNCOURSE_MIRROR", str(folder))
    return folder


# ---------------------------------------------------------------------------------------------
# Where things go
# ---------------------------------------------------------------------------------------------


def test_cache_dir_follows_rnncourse_data_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNCOURSE_DATA", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("RNNCOURSE_DATA")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert cache_dir() == tmp_path / "xdg" / "rnncourse"
        monkeypatch.delenv("XDG_CACHE_HOME")
        assert cache_dir() == Path.home() / ".cache" / "rnncourse"


def test_unknown_dataset_names_the_known_ones(cache):
    with pytest.raises(ValueError, match="imdb, shakespeare, fra-eng"):
        download("mnist")


# ---------------------------------------------------------------------------------------------
# Mirror, cache, fallbacks
# ---------------------------------------------------------------------------------------------


def test_mirror_folder_then_cache_without_network(cache, mirror, monkeypatch):
    register_text(monkeypatch)
    (mirror / "toy.txt").write_bytes(TOY_TEXT)
    path = download("toy", quiet=True)
    assert path == cache / "toy" / "toy.txt"
    assert path.read_bytes() == TOY_TEXT
    assert fetch._open_url.calls == []  # the mirror was enough

    (mirror / "toy.txt").unlink()  # neither mirror nor network from now on
    monkeypatch.delenv("RNNCOURSE_MIRROR")
    assert download("toy", quiet=True) == path
    assert fetch._open_url.calls == []
    assert files_under(cache) == [path]  # no temporary file left behind


def test_file_missing_from_mirror_falls_back_to_official_address(cache, mirror, monkeypatch):
    register_text(monkeypatch)
    monkeypatch.setattr(fetch, "_open_url", FakeNetwork({TOY_URL: TOY_TEXT}))
    assert download("toy", quiet=True).read_bytes() == TOY_TEXT
    assert fetch._open_url.calls == [TOY_URL]


def test_file_url_mirror(cache, mirror, monkeypatch):
    register_text(monkeypatch)
    (mirror / "toy.txt").write_bytes(TOY_TEXT)
    monkeypatch.setenv("RNNCOURSE_MIRROR", mirror.as_uri())
    assert download("toy", quiet=True).read_bytes() == TOY_TEXT


def test_mirror_that_is_not_a_folder_is_a_clear_error(cache, tmp_path, monkeypatch):
    register_text(monkeypatch)
    monkeypatch.setenv("RNNCOURSE_MIRROR", str(tmp_path / "no-such-folder"))
    with pytest.raises(DataError, match="RNNCOURSE_MIRROR=.*not an existing folder"):
        download("toy", quiet=True)
    assert files_under(cache) == []


@pytest.fixture
def http_mirror(tmp_path, monkeypatch):
    """A real HTTP server on localhost serving a folder, used through the real ``urlopen``."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv("RNNCOURSE_MIRROR", f"http://127.0.0.1:{server.server_address[1]}/data/")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")  # a proxy set for the real internet is not asked
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    (folder / "data").mkdir()
    yield folder / "data"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_http_mirror_with_sha256sums_accepts_a_listed_variant(cache, http_mirror, monkeypatch):
    monkeypatch.setattr(fetch, "_open_url", REAL_OPEN_URL)
    variant = TOY_TEXT + b"A classroom's own edition.\n"
    register_text(monkeypatch, sha256=(sha256(TOY_TEXT),))  # only the original is pinned
    (http_mirror / "toy.txt").write_bytes(variant)
    (http_mirror / "SHA256SUMS").write_text(f"{sha256(variant)}  toy.txt\n{'0' * 64} *other.bin\n")
    assert download("toy", quiet=True).read_bytes() == variant


def test_http_mirror_without_the_file_falls_back_to_official_address(cache, http_mirror, monkeypatch):
    register_text(monkeypatch)
    official = FakeNetwork({TOY_URL: TOY_TEXT})

    def opener(url):  # localhost through the real urlopen, the internet through the fake
        return REAL_OPEN_URL(url) if url.startswith("http://127.0.0.1") else official(url)

    monkeypatch.setattr(fetch, "_open_url", opener)
    assert download("toy", quiet=True).read_bytes() == TOY_TEXT
    assert official.calls == [TOY_URL]


# ---------------------------------------------------------------------------------------------
# Verification failures leave nothing behind
# ---------------------------------------------------------------------------------------------


def test_corrupted_mirror_file_is_rejected_and_removed(cache, mirror, monkeypatch):
    register_text(monkeypatch)
    damaged = bytearray(TOY_TEXT)
    damaged[100] ^= 0xFF
    (mirror / "toy.txt").write_bytes(bytes(damaged))
    with pytest.raises(errors.ChecksumError) as info:
        download("toy", quiet=True)
    message = str(info.value)
    assert sha256(bytes(damaged)) in message and sha256(TOY_TEXT) in message
    assert "removed" in message and "RNNCOURSE_MIRROR" in message
    assert files_under(cache) == []
    assert fetch._open_url.calls == []  # a bad mirror is reported, not silently bypassed


def test_sha256sums_listing_another_digest_is_a_mismatch(cache, mirror, monkeypatch):
    register_text(monkeypatch, sha256=("f" * 64,))
    (mirror / "toy.txt").write_bytes(TOY_TEXT)
    (mirror / "SHA256SUMS").write_text(f"{'e' * 64}  toy.txt\n")
    with pytest.raises(errors.ChecksumError, match="mirror's SHA256SUMS"):
        download("toy", quiet=True)
    assert files_under(cache) == []


def test_listed_file_must_still_pass_the_content_check(cache, mirror, monkeypatch):
    register_text(monkeypatch, sha256=("f" * 64,))
    impostor = b"Not the text at all.\n"
    (mirror / "toy.txt").write_bytes(impostor)
    (mirror / "SHA256SUMS").write_text(f"{sha256(impostor)}  toy.txt\n")
    with pytest.raises(errors.ArchiveError, match="is not the dataset: it is not the toy text"):
        download("toy", quiet=True)
    assert files_under(cache) == []


def test_unpinned_official_file_is_accepted_only_where_upstream_updates_it(cache, monkeypatch):
    register_text(monkeypatch, sha256=("f" * 64,))
    monkeypatch.setattr(fetch, "_open_url", FakeNetwork({TOY_URL: TOY_TEXT}))
    with pytest.raises(errors.ChecksumError, match="run the command again"):
        download("toy", quiet=True)
    assert files_under(cache) == []
    register_text(monkeypatch, sha256=("f" * 64,), updated_upstream=True)
    assert download("toy", quiet=True).read_bytes() == TOY_TEXT


# ---------------------------------------------------------------------------------------------
# Network failures, interruptions, a full disk
# ---------------------------------------------------------------------------------------------


def test_no_network_and_no_mirror_names_both_variables(cache, monkeypatch):
    register_text(monkeypatch)
    with pytest.raises(errors.DownloadError) as info:
        download("toy", quiet=True)
    message = str(info.value)
    assert "cannot resolve the server's name" in message and TOY_URL in message
    assert "No mirror is set" in message and "RNNCOURSE_MIRROR" in message and "RNNCOURSE_DATA" in message
    assert fetch._open_url.calls == [TOY_URL]
    assert files_under(cache) == []


def test_interrupted_download_leaves_no_partial_file(cache, monkeypatch):
    register_text(monkeypatch)
    network = FakeNetwork({TOY_URL: TOY_TEXT}, fail_after=len(TOY_TEXT) // 2)
    monkeypatch.setattr(fetch, "_open_url", network)
    with pytest.raises(errors.DownloadError, match="Connection reset by peer"):
        download("toy", quiet=True)
    assert files_under(cache) == []


def test_ctrl_c_during_download_leaves_no_partial_file(cache, monkeypatch):
    register_text(monkeypatch)
    network = FakeNetwork({TOY_URL: TOY_TEXT}, fail_after=len(TOY_TEXT) // 2, error=KeyboardInterrupt())
    monkeypatch.setattr(fetch, "_open_url", network)
    with pytest.raises(KeyboardInterrupt):
        download("toy", quiet=True)
    assert files_under(cache) == []


def test_transfer_that_ends_early_is_an_error(cache, monkeypatch):
    register_text(monkeypatch)

    class Short(FakeNetwork):
        def __call__(self, url):
            response = super().__call__(url)
            response.headers = {"Content-Length": str(len(TOY_TEXT) + 10)}
            return response

    monkeypatch.setattr(fetch, "_open_url", Short({TOY_URL: TOY_TEXT}))
    with pytest.raises(errors.DownloadError, match=f"ended after {len(TOY_TEXT):,} of"):
        download("toy", quiet=True)
    assert files_under(cache) == []


def test_full_disk_is_a_clear_error_and_leaves_nothing(cache, mirror, monkeypatch):
    register_text(monkeypatch)
    (mirror / "toy.txt").write_bytes(TOY_TEXT)
    seen = []

    class FullDisk(io.FileIO):
        def write(self, data):
            if self.tell() > 8000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    def fake_open(path, mode="r", *args, **kwargs):
        if "w" in mode and "b" in mode:
            seen.append(Path(path))
            return FullDisk(path, "w")
        return builtins.open(path, mode, *args, **kwargs)

    monkeypatch.setattr(fetch, "open", fake_open, raising=False)
    with pytest.raises(errors.DiskFullError) as info:
        download("toy", quiet=True)
    assert "full" in str(info.value) and "RNNCOURSE_DATA" in str(info.value)
    assert seen and seen[0].name.endswith(".part")  # a partial file was really being written ...
    assert files_under(cache) == []  # ... and is gone


def test_leftovers_of_a_killed_process_are_removed(cache, mirror, monkeypatch):
    register_text(monkeypatch)
    (mirror / "toy.txt").write_bytes(TOY_TEXT)
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    folder = cache / "toy"
    folder.mkdir(parents=True)
    stale = folder / f".toy.txt~{sources._HOST}~{finished.pid}.part"
    stale.write_bytes(b"half a file")
    ours = folder / f".toy.txt~{sources._HOST}~{os.getpid()}.tmp"  # a live process's: kept
    ours.mkdir()
    download("toy", quiet=True)
    assert not stale.exists() and ours.exists()


# ---------------------------------------------------------------------------------------------
# Archives
# ---------------------------------------------------------------------------------------------


def test_archive_is_extracted_checked_and_kept(cache, mirror, monkeypatch):
    register_tar(monkeypatch, GOOD_TAR)
    (mirror / "toy.tar.gz").write_bytes(GOOD_TAR)
    path = download("toytar", quiet=True)
    assert path == cache / "toytar" / "toy"
    assert sorted(p.name for p in (path / "docs").iterdir()) == ["0.txt", "1.txt", "2.txt"]
    assert (cache / "toytar" / "toy.tar.gz").read_bytes() == GOOD_TAR
    assert not [p for p in (cache / "toytar").iterdir() if p.name.startswith(".")]


def test_deleted_extraction_is_rebuilt_from_the_cached_archive_without_network(cache, mirror, monkeypatch):
    register_tar(monkeypatch, GOOD_TAR)
    (mirror / "toy.tar.gz").write_bytes(GOOD_TAR)
    path = download("toytar", quiet=True)
    sources._remove(path)
    (mirror / "toy.tar.gz").unlink()
    assert download("toytar", quiet=True) == path and (path / "docs" / "2.txt").is_file()


@pytest.mark.parametrize(
    "members, links, complaint",
    [
        ({**GOOD_TREE, "toy/../../escaped.txt": b"gotcha"}, None, "outside the target folder"),
        ({**GOOD_TREE, "/tmp/rnncourse-escaped.txt": b"gotcha"}, None, "outside the target folder"),
        (GOOD_TREE, {"toy/docs/link": "/etc"}, "is a link"),
    ],
    ids=["dot-dot", "absolute", "symlink"],
)
def test_archive_member_that_tries_to_escape_is_refused(cache, mirror, monkeypatch, tmp_path, members, links, complaint):
    data = make_tar(members, links=links)
    register_tar(monkeypatch, data)
    (mirror / "toy.tar.gz").write_bytes(data)
    with pytest.raises(errors.ArchiveError, match=complaint):
        download("toytar", quiet=True)
    assert files_under(cache) == []
    assert not (tmp_path / "escaped.txt").exists() and not (cache / "escaped.txt").exists()
    assert not Path("/tmp/rnncourse-escaped.txt").exists()


@pytest.mark.parametrize("name", ["../../escaped.txt", "..\\..\\escaped.txt", "/escaped.txt", "C:/escaped.txt"])
def test_zip_member_that_tries_to_escape_is_refused(cache, mirror, monkeypatch, name):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("docs/0.txt", "fine")
        zf.writestr(zipfile.ZipInfo(name), "gotcha")
    data = buffer.getvalue()
    register_tar(monkeypatch, data, filename="toy.zip", archive_root="")
    (mirror / "toy.zip").write_bytes(data)
    with pytest.raises(errors.ArchiveError, match="outside the target folder"):
        download("toytar", quiet=True)
    assert files_under(cache) == []


def test_corrupt_archive_is_a_clear_error_and_leaves_nothing(cache, mirror, monkeypatch):
    truncated = GOOD_TAR[: len(GOOD_TAR) // 2]
    register_tar(monkeypatch, truncated)  # the digest matches: only the content is wrong
    (mirror / "toy.tar.gz").write_bytes(truncated)
    with pytest.raises(errors.ArchiveError, match="not a readable archive") as info:
        download("toytar", quiet=True)
    assert "removed" in str(info.value)
    assert files_under(cache) == []


def test_archive_whose_content_fails_the_check_leaves_nothing(cache, mirror, monkeypatch):
    data = make_tar({"toy/docs/0.txt": b"only one"})
    register_tar(monkeypatch, data)
    (mirror / "toy.tar.gz").write_bytes(data)
    with pytest.raises(errors.ArchiveError, match="docs holds 1 files instead of 3"):
        download("toytar", quiet=True)
    assert files_under(cache) == []


# ---------------------------------------------------------------------------------------------
# ``rnncourse download``
# ---------------------------------------------------------------------------------------------


def test_command_prints_where_and_is_served_from_the_cache_afterwards(cache, mirror, monkeypatch, capsys):
    register_text(monkeypatch)
    (mirror / "toy.txt").write_bytes(TOY_TEXT)
    assert cli.main(["download", "toy", "--quiet"]) == 0
    assert capsys.readouterr().out == f"toy: {cache / 'toy' / 'toy.txt'}\n"
    monkeypatch.delenv("RNNCOURSE_MIRROR")
    assert cli.main(["download", "toy"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"toy: {cache / 'toy' / 'toy.txt'}\n" and captured.err == ""


def test_command_failure_is_one_message_and_exit_status_1(cache, monkeypatch, capsys):
    register_text(monkeypatch)
    assert cli.main(["download", "toy", "-q"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("rnncourse download toy: Could not download toy")
    assert "Traceback" not in captured.err
