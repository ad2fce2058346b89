"""Progress bars that suit where their output goes: a terminal, a notebook, or a log file.

In a terminal and in Jupyter a bar redraws itself in place (``tqdm.auto``). Written to a log file or
a CI job's output (not a terminal), the same redraws would be thousands of carriage-return
updates in one enormous line; there the bar instead prints a whole line now and then (at most one
every ``RNNCOURSE_PROGRESS_SECONDS``, default 30 s), plus the last one::

    fit:  40%|####      | 2000/5000 [01:02<01:33, 32.1batch/s]

``RNNCOURSE_PROGRESS=lines`` asks for the lines everywhere, Jupyter included: the book's build
sets it for the chapters it executes, because a notebook's progress widget would need scripts from
the internet to show in the built page. Asked for that way, a bar also stays silent for work that
ends within one interval, so a page shows progress only where the work is long enough to need it
(not ``fit: 0batch [00:00, ?batch/s]`` or a download's 0% and 100% lines a second apart).

Every course routine that shows progress (``rnncourse.train.fit``, the dataset downloads) makes its
bar with :func:`progress_bar`.
"""

from __future__ import annotations

import os
import sys

__all__ = ["progress_bar"]

ENV_VAR = "RNNCOURSE_PROGRESS_SECONDS"
MODE_VAR = "RNNCOURSE_PROGRESS"


def _in_jupyter() -> bool:
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None and hasattr(shell, "get_ipython") else None
    return ip is not None and "ipykernel" in sys.modules


def _interactive(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _Lines:
    """A file for tqdm that turns each redraw (``\\r`` + status) into one line of its own."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        for part in text.replace("\r", "\n").split("\n"):
            if part.strip():
                self.stream.write(part.rstrip() + "\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def _log_interval() -> float:
    try:
        return max(0.0, float(os.environ.get(ENV_VAR, "30")))
    except ValueError:
        return 30.0


def progress_bar(*, file=None, **kwargs):
    """A ``tqdm`` bar (same arguments) that redraws in place in a terminal or notebook, and prints a
    line every ``RNNCOURSE_PROGRESS_SECONDS`` (30) seconds into a log."""
    stream = sys.stderr if file is None else file
    lines = os.environ.get(MODE_VAR, "").strip().lower() == "lines"
    if not lines and (_in_jupyter() or _interactive(stream)):
        from tqdm.auto import tqdm

        return tqdm(file=file, **kwargs)
    from tqdm import tqdm

    interval = _log_interval()
    kwargs.update(mininterval=interval, maxinterval=max(interval, 10.0), miniters=1,
                  dynamic_ncols=False, ncols=kwargs.get("ncols") or 80, ascii=True)
    if lines:
        kwargs.setdefault("delay", interval)  # nothing at all for work shorter than one interval
    return tqdm(file=_Lines(stream), **kwargs)
