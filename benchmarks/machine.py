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


def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo`` on Linux, ``sysctl`` on macOS), or what
    ``platform`` knows when neither says."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if platform.system() == "Darwin":
        import subprocess

        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                  text=True, timeout=5).stdout.strip() or platform.processor()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown"


def machine_facts() -> dict:
    """Date, host, hardware (``rnncourse.environment_summary()``), CPU model, threads, cores, Python
    and torch."""
    import torch

    from rnncourse import environment_summary

    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "host": host_name(),
        "hardware": environment_summary(),
        "cpu_model": cpu_model(),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def summary_row(what: str, value: float | None, unit: str, target: str | None = None,
                met: bool | None = None) -> dict:
    """One entry of a results file's top-level ``"summary"`` list (the book's reference-numbers
    page is generated from these): ``value`` is None when it was not measured."""
    return {"what": what, "value": value, "unit": unit, "target": target, "met": met}


def write_results(result: dict, folder: Path, stem: str) -> Path:
    """Write ``result`` as ``<folder>/<stem>-<host>.json``; return the path. ``result`` should carry
    a top-level ``"summary"`` list of :func:`summary_row` entries."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}-{result['host']}.json"
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return path
