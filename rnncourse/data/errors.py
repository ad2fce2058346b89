"""The errors of getting a dataset ready (each message says what happened and what to do) and the
two environment variables those messages point to."""

from __future__ import annotations

DATA_ENV = "RNNCOURSE_DATA"
MIRROR_ENV = "RNNCOURSE_MIRROR"

__all__ = ["DATA_ENV", "MIRROR_ENV", "ArchiveError", "ChecksumError", "DataError", "DiskFullError", "DownloadError"]


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
