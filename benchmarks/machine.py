"""What every benchmark records about the machine it ran on, and how it writes its results file."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import socket
from pathlib import Path


def load_average() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages (a loaded machine makes wall times longer), if known."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def host_name() -> str:
    """This machine's name, safe for a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", socket.gethostname() or platform.node() or "host")[:60] or "host"


def machine_facts() -> dict:
    """Date, host, hardware (``rnncourse.environment_summary()``), threads, cores, Python and torch."""
    import torch

    from rnncourse import environment_summary

    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "host": host_name(),
        "hardware": environment_summary(),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def write_results(result: dict, folder: Path, stem: str) -> Path:
    """Write ``result`` as ``<folder>/<stem>-<host>.json``; return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}-{result['host']}.json"
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return path
