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
    from rnncourse.runtime.files import write_atomically

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}-{result['host']}.json"
    write_atomically(path, json.dumps(result, indent=1) + "\n")  # an interrupted run leaves the old file whole
    return path


def print_summary(result: dict, path: Path) -> None:
    """Each summary row on a line, with its target met or not, then where the file went."""
    for item in result["summary"]:
        target = f" (target {item['target']}: {'met' if item['met'] else 'NOT met'})" if item["target"] else ""
        print(f"{item['what']}: {item['value']} {item['unit']}{target}")
    print(f"wrote {path}")


def page_pipeline(page: Path, *, with_imports: bool = False, tag: str = "pipeline") -> dict:
    """Execute the page's code cells tagged ``tag``, in order, in one namespace; return it.

    The benchmark and the book then run the same code: the profile changes only sizes. With
    ``with_imports``, the import lines of the page's first code cell run first (for pages whose
    pipeline cells rely on them).
    """
    import jupytext

    notebook = jupytext.read(page)
    cells = [c for c in notebook.cells if c.cell_type == "code" and tag in c.metadata.get("tags", [])]
    if not cells:
        raise SystemExit(f"{page} has no code cells tagged {tag!r}; nothing to run.")
    namespace: dict = {"__name__": f"{page.stem}_pipeline"}
    if with_imports:
        first = next(c for c in notebook.cells if c.cell_type == "code")
        imports = "\n".join(line for line in first.source.splitlines()
                            if line.startswith(("import ", "from ")))
        exec(compile(imports, f"<{page.name}, imports>", "exec"), namespace)
    for number, cell in enumerate(cells, 1):
        exec(compile(cell.source, f"<{page.name}, pipeline cell {number}>", "exec"), namespace)
    return namespace


def add_run_options(parser, results: Path, *, threads_default: int | None = None) -> None:
    """The options every benchmark takes: ``--threads``, ``--note`` and ``--out``."""
    default = ("the free cores, as the book decides: rnncourse.runtime.threads" if threads_default is None
               else str(threads_default))
    parser.add_argument("--threads", type=int, default=threads_default,
                        help=f"torch CPU threads (default: {default})")
    parser.add_argument("--note", default="", help="a remark stored with the results (e.g. 'machine shared')")
    parser.add_argument("--out", type=Path, default=results, help="folder for the results file")


def use_threads(threads: int | None) -> None:
    """Decide torch's threads before measuring: ``--threads`` when given (recorded as the decision,
    so a page's ``environment_summary()`` keeps it), else the free cores."""
    from rnncourse.runtime.threads import set_threads, use_free_cores

    if threads:
        set_threads(threads, f"--threads {threads}")
    use_free_cores()


def start_page_run(profile: str, threads: int | None) -> None:
    """Before a page's pipeline runs: its profile (the page reads ``RNNCOURSE_PROFILE``), plots
    without a screen, and the threads decided before anything is measured."""
    os.environ["RNNCOURSE_PROFILE"] = profile
    os.environ.setdefault("MPLBACKEND", "Agg")
    use_threads(threads)
