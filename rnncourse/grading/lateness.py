"""Due dates and submission times: how late each submission is.

Where a submission's time comes from, first found wins:

1. ``--times FILE``: a CSV with one row per student. Moodle's *grading worksheet* (Assignment →
   View all submissions → Grading action → Download grading worksheet) works as downloaded: its
   ``Identifier`` (``Participant 4711``, the number in the download's folder names), ``Email
   address`` and ``Last modified (submission)`` columns are read. Any other CSV needs a
   ``student`` column (id, email or LMS id) and a ``submitted`` column.
2. nbgrader's own ``timestamp.txt`` beside the notebook (``STUDENT/NN-slug/timestamp.txt``, what
   ``nbgrader collect`` and the exchange write).
3. Canvas writes no time into its download (the files in its zip carry the time the zip was
   made, instructure/canvas-lms#2219), only the word ``LATE`` in a late file's name: such a
   submission is late by an unknown number of minutes, unless ``--times`` gives its time.

File modification times are never used: unzipping or copying changes them.
Times without a zone are read in the zone of ``--due`` (or UTC).
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["LatenessError", "minutes_late", "parse_time", "read_times"]

MOODLE_FORMATS = ("%A, %d %B %Y, %I:%M %p", "%A, %d %B %Y, %H:%M", "%d %B %Y, %I:%M %p", "%d %B %Y, %H:%M")
PARTICIPANT = re.compile(r"^\D*(\d+)$")


class LatenessError(Exception):
    """A due date or a times file that cannot be read, said so an instructor can fix it."""


def parse_time(text: str, zone=timezone.utc) -> datetime:
    """``2026-03-01T23:59+01:00``, ``2026-03-01 23:59`` (in ``zone``), nbgrader's
    ``2026-03-01 22:59:00.123456 UTC`` or Moodle's ``Sunday, 1 March 2026, 11:59 PM``."""
    text = text.strip()
    cleaned = re.sub(r"\s+UTC$", "+00:00", text)
    try:
        when = datetime.fromisoformat(cleaned)
    except ValueError:
        for fmt in MOODLE_FORMATS:
            try:
                when = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise LatenessError(f"{text!r} is not a date and time (write it as 2026-03-01T23:59+01:00)") from None
    return when if when.tzinfo else when.replace(tzinfo=zone)


def minutes_late(submitted: datetime | None, due: datetime | None) -> int | None:
    """Whole minutes after ``due`` (a started minute counts), 0 when on time; ``None`` if unknown."""
    if submitted is None or due is None:
        return None
    return max(0, math.ceil((submitted - due).total_seconds() / 60))


def read_times(path: Path, zone=timezone.utc) -> dict[str, datetime]:
    """``{key: submission time}`` from ``path``; a row's keys are its student, email and LMS id."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise LatenessError(f"cannot read the times file {path}: {err}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
    when_col = header.get("last modified (submission)") or header.get("submitted")
    key_cols = [header[c] for c in ("student", "identifier", "email address", "email") if c in header]
    if not when_col or not key_cols:
        raise LatenessError(f"the times file {path} needs a 'submitted' and a 'student' column, or Moodle's "
                            "grading worksheet columns 'Identifier' and 'Last modified (submission)'")
    times = {}
    for line, row in enumerate(reader, start=2):
        value = (row.get(when_col) or "").strip()
        if not value or value == "-":  # Moodle writes "-" for no submission
            continue
        try:
            when = parse_time(value, zone)
        except LatenessError as err:
            raise LatenessError(f"{path}, line {line}: {err}") from None
        for col in key_cols:
            key = (row.get(col) or "").strip()
            if key:
                times[key] = when
                participant = PARTICIPANT.match(key) if col == header.get("identifier") else None
                if participant:
                    times[participant.group(1)] = when
    return times
