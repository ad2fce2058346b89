"""What every benchmark records about the machine it ran on, besides ``rnncourse.environment_summary()``."""

from __future__ import annotations

import os
import platform
import re
import socket


def load_average() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages (a loaded machine makes wall times longer), if known."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def host_name() -> str:
    """This machine's name, safe for a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", socket.gethostname() or platform.node() or "host")[:60] or "host"
