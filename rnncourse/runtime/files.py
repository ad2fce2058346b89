"""Writing files so that nothing is ever half-written: a temporary file, then one rename.

A reader (or a run that was killed mid-write) sees the old file or the new one, never a mix:
``os.replace`` is atomic on one file system, and the temporary file lies beside the target.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "write_atomically", "write_if_changed"]


@contextmanager
def atomic_path(path: str | os.PathLike, *, fsync: bool = False, tmp: Path | None = None) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; it replaces ``path`` when the block ends.

    For writers that want a file name (``torch.save(state, tmp)``)::

        with atomic_path("model.pt") as tmp:
            torch.save(state, tmp)

    The name is unique to the process and thread (or ``tmp``, a name in the same folder). If
    the block raises, the temporary file is removed and ``path`` is left as it was.
    ``fsync=True`` flushes it to disk before the rename.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp or path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_atomically(path: str | os.PathLike, data: str | bytes, *, fsync: bool = False) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` through :func:`atomic_path`."""
    blob = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path, fsync=fsync) as tmp:
        tmp.write_bytes(blob)


def write_if_changed(path: str | os.PathLike, data: str | bytes) -> bool:
    """:func:`write_atomically` (flushed to disk), unless the file already holds ``data``.

    Returns whether it wrote: regenerating unchanged files leaves their times alone.
    """
    path = Path(path)
    blob = data.encode("utf-8") if isinstance(data, str) else data
    if path.exists() and path.read_bytes() == blob:
        return False
    write_atomically(path, blob, fsync=True)
    return True
