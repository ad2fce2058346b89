"""Where a student's code runs while it is graded: a bubblewrap sandbox with resource limits.

Every submission gets its own Jupyter kernel, started as::

    bwrap --unshare-all --unshare-user --disable-userns --die-with-parent --new-session
          --ro-bind /usr ... (the system's programs and libraries, read-only)
          --ro-bind <venv> ... (this Python environment and the rnncourse package, read-only)
          --tmpfs /tmp --tmpfs /home/student   (fresh, size-limited scratch: HOME and working folder)
          --bind <conn> <conn>                 (the kernel's sockets and connection file, nothing else)
          --remount-ro /                       (the sandbox's own root is read-only too)
          --clearenv --setenv HOME /home/student ...
          -- python -m rnncourse.grading.sandbox --memory ... -f <connection file>

so that the code in the notebook

* has **no network**: a new network namespace with only a loopback interface;
* **sees no file it should not**: not the course repository (answers in ``solutions/``), not the
  gradebook, not the instructor's home, not the other students' submissions; what it can see
  (the system, the Python environment, the ``rnncourse`` package) is read-only;
* **writes only to its own scratch**: ``/tmp`` and ``HOME`` are new in-memory file systems of
  ``disk`` bytes each that vanish with the kernel; the one folder shared with the grader holds
  the kernel's sockets and is deleted afterwards;
* **is limited**: the kernel process sets ``RLIMIT_AS`` (address space: ``memory``),
  ``RLIMIT_CPU`` (CPU seconds: the notebook time limit plus a margin, a backstop for code that
  starts threads), ``RLIMIT_FSIZE`` (largest file it may write) and no core dumps before
  ipykernel starts; the grader enforces the per-cell and whole-notebook wall-clock limits from
  outside and kills the sandbox, whose PID namespace takes every process started inside with it.

**Why RLIMIT_AS.** It counts every mapping, including shared anonymous memory that
``RLIMIT_DATA`` does not see (``mmap.mmap(-1, n)`` would escape ``RLIMIT_DATA``), and it needs no
cgroup, no root and no systemd. Its cost is that shared libraries count too: measured with
torch 2.13 (CPU) and one thread per library, Python + numpy + torch + ipykernel map about
0.62 GiB before the notebook allocates anything (0.78 GiB with a second thread pool), so the
limit must be set that much above what the answers need. Thread pools are pinned to one thread
(``OMP_NUM_THREADS=1`` and friends) and glibc to two malloc arenas so that the baseline does not
grow with the machine's core count, and so that ``--workers N`` kernels share N cores fairly.

The kernel talks to the grader over Unix sockets (ZeroMQ ``ipc`` transport) in the shared
folder: TCP would not cross the network namespace, and the grader (outside) runs the notebook
cell by cell, so the student's code never touches the gradebook or the grader's process.

Without bubblewrap, :func:`sandbox_problem` says why and what to install; the grader then
refuses to run unless the instructor passes ``--unsafe-no-sandbox``, which keeps the limits
and scratch folders but not the file-system and network isolation.

The same module is the kernel's launcher: ``python -m rnncourse.grading.sandbox --memory B
--cpu S --fsize B -f CONNECTION_FILE`` sets the limits on itself, then runs ipykernel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["Limits", "Scratch", "kernel_spec", "parse_size", "sandbox_problem"]

SANDBOX_HOME = "/home/student"
SANDBOX_WORK = f"{SANDBOX_HOME}/work"
SANDBOX_UID = 1000
CPU_MARGIN_S = 60  # RLIMIT_CPU = notebook time limit + this
INSTALL_HINT = (
    "Install bubblewrap from the system's packages: `sudo apt-get install bubblewrap` (Debian, "
    "Ubuntu), `sudo dnf install bubblewrap` (Fedora, RHEL), `sudo pacman -S bubblewrap` (Arch). "
    "It runs without root and without a daemon, but needs user namespaces: on Ubuntu 24.04 and "
    "later the bubblewrap package's AppArmor profile allows them; elsewhere check "
    "`sysctl kernel.unprivileged_userns_clone` (Debian) or `user.max_user_namespaces`."
)


def parse_size(text: str | int | None) -> int | None:
    """``"1500M"``, ``"4G"``, ``"512k"`` or a number of bytes -> bytes; ``None``/``"none"`` -> no limit."""
    if text is None or isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", text)
    if text.strip().lower() in ("none", "unlimited", "0"):
        return None
    if not match:
        raise ValueError(f"{text!r} is not a size; write for example 1500M or 4G")
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[match.group(2).lower()]
    return int(float(match.group(1)) * scale)


def format_size(n: int | None) -> str:
    if n is None:
        return "no limit"
    for unit, scale in (("G", 2**30), ("M", 2**20), ("k", 2**10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale}{unit}"
    return f"{n / 2**20:.0f}M"


@dataclass(frozen=True)
class Limits:
    """What one notebook may use. Times in seconds, sizes in bytes (``None``: no limit)."""

    cell_timeout: float = 120.0  # one cell, wall clock; the cell is interrupted, the rest runs
    timeout: float = 900.0  # the whole notebook, wall clock; the kernel is killed
    memory: int | None = 4 * 2**30  # RLIMIT_AS of the kernel (see the module docstring)
    disk: int = 256 * 2**20  # size of /tmp and HOME each, and the largest file it may write
    startup_timeout: float = 120.0  # the kernel must answer within this (imports, slow disks)

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        return (f"{self.cell_timeout:g} s per cell, {self.timeout:g} s per notebook, "
                f"memory {format_size(self.memory)}, scratch {format_size(self.disk)}")


def add_time_limit_arguments(parser) -> None:
    """``--cell-timeout`` and ``--timeout``, as ``rnncourse check`` and ``rnncourse grade`` take them."""
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout, metavar="S",
                        help="seconds one cell may run before it is stopped (default %(default)g)")
    parser.add_argument("--timeout", type=float, default=Limits.timeout, metavar="S",
                        help="seconds the whole notebook may run (default %(default)g)")


def _python_roots() -> list[Path]:
    """Folders the kernel needs read-only: the environment, its base interpreter, rnncourse."""
    import rnncourse

    package = Path(rnncourse.__file__).resolve().parent
    roots = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    roots.add(Path(sys.executable).resolve().parent.parent)
    roots.add(package)
    for entry in sys.path:  # site folders outside the prefixes (user site, PYTHONPATH installs)
        path = Path(entry).resolve() if entry else None
        if path and path.is_dir() and path.name in ("site-packages", "dist-packages"):
            roots.add(path)
    system = Path("/usr")
    kept: list[Path] = []
    for root in sorted(roots, key=lambda p: len(p.parts)):
        if root == Path("/") or root == system or system in root.parents:
            continue
        if not any(k == root or k in root.parents for k in kept):
            kept.append(root)
    return kept


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for etc in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                "/etc/alternatives", "/etc/mime.types"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    return args


def sandbox_env(limits: Limits) -> dict[str, str]:
    """The kernel's whole environment: nothing of the instructor's is passed on but the profile."""
    bindir = str(Path(sys.executable).parent)
    env = {
        "HOME": SANDBOX_HOME,
        "USER": "student",
        "LOGNAME": "student",
        "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "MPLCONFIGDIR": f"{SANDBOX_HOME}/.config/matplotlib",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
        "RNNCOURSE_PROFILE": os.environ.get("RNNCOURSE_PROFILE", "cpu"),
    }
    return env


def _bwrap_prefix(conn: Path, limits: Limits, userns: bool) -> list[str]:
    size = ["--size", str(limits.disk)] if _bwrap_supports_size() else []
    args = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    if userns:
        args += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--disable-userns"]
    args += _system_binds()
    for root in _python_roots():
        args += ["--ro-bind", str(root), str(root)]
    args += ["--proc", "/proc", "--dev", "/dev",
             *size, "--tmpfs", "/tmp", *size, "--tmpfs", SANDBOX_HOME,
             "--dir", SANDBOX_WORK, "--bind", str(conn), str(conn), "--remount-ro", "/",
             "--chdir", SANDBOX_WORK, "--clearenv"]
    for key, value in sandbox_env(limits).items():
        args += ["--setenv", key, value]
    return [*args, "--"]


def _launcher(limits: Limits, grading: bool) -> list[str]:
    """The kernel's command; a learner's own check limits memory only (and only when asked):
    a CPU-time limit would stop a multi-threaded notebook early, a file-size limit a checkpoint."""
    cpu = int(limits.timeout + CPU_MARGIN_S) if limits.timeout and grading else 0
    return [sys.executable, "-m", "rnncourse.grading.sandbox",
            "--memory", str(limits.memory or 0), "--cpu", str(cpu), "--fsize", str(limits.disk if grading else 0),
            "-f", "{connection_file}"]


@lru_cache(maxsize=1)
def _bwrap_supports_size() -> bool:
    try:
        out = subprocess.run(["bwrap", "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return "--size" in out.stdout + out.stderr


PROBE = """
import socket, sys
import rnncourse.grading
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("1.1.1.1", 53))
except OSError:
    pass
else:
    sys.exit("the sandbox has network access")
"""


@lru_cache(maxsize=1)
def _probe() -> tuple[bool | None, str]:
    """(userns?, problem): which bubblewrap form works here, or why none does."""
    if shutil.which("bwrap") is None:
        return None, "bubblewrap (`bwrap`) is not installed. " + INSTALL_HINT
    errors = []
    with tempfile.TemporaryDirectory(prefix="rnncourse-probe-") as conn:
        limits = Limits()
        for userns in (True, False):
            argv = _bwrap_prefix(Path(conn), limits, userns) + [sys.executable, "-I", "-c", PROBE]
            try:
                run = subprocess.run(argv, capture_output=True, text=True, timeout=120)
            except (OSError, subprocess.SubprocessError) as err:
                errors.append(str(err))
                continue
            if run.returncode == 0:
                return userns, ""
            lines = (run.stderr or run.stdout).strip().splitlines()
            errors.append(lines[-1] if lines else f"exit status {run.returncode}")
    return None, ("bubblewrap is installed but cannot start a sandbox here: " + "; ".join(dict.fromkeys(errors))
                  + ". " + INSTALL_HINT)


def sandbox_problem() -> str | None:
    """``None`` when a sandboxed kernel can start here, else what is wrong, for the instructor."""
    userns, problem = _probe()
    return None if userns is not None else problem


class Scratch:
    """One submission's scratch on the grader's side: ``conn/`` is shared with the sandbox
    (sockets, connection file), ``private/`` is not (kernel spec, kernel's stderr)."""

    def __init__(self, root: Path):
        self.root = root
        self.conn = root / "conn"
        self.private = root / "private"
        self.work = root / "work"  # HOME and working folder when there is no sandbox
        for d in (self.conn, self.private, self.work):
            d.mkdir(parents=True, exist_ok=True)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def kernel_spec(limits: Limits, scratch: Scratch | None, sandboxed: bool, grading: bool = True) -> dict:
    """A Jupyter kernel spec (``kernel.json`` content) that runs this interpreter.

    ``grading`` ``False``: the learner's own machine (``rnncourse check``): no sandbox, and a
    memory limit only when one is given. Interrupts are sent as messages, which work through
    the sandbox's PID namespace.
    """
    if sandboxed:
        if scratch is None:
            raise ValueError("a sandboxed kernel needs a scratch folder")
        userns, problem = _probe()
        if userns is None:
            raise RuntimeError(problem)
        argv = _bwrap_prefix(scratch.conn, limits, userns) + _launcher(limits, grading)
    else:
        argv = _launcher(limits, grading)
    return {"argv": argv, "display_name": "Python 3 (rnncourse grading)", "language": "python",
            "interrupt_mode": "message", "metadata": {"debugger": False}}


def unsandboxed_env(limits: Limits, scratch: Scratch) -> dict[str, str]:
    """Environment for ``--unsafe-no-sandbox``: the sandbox's, with HOME in the scratch folder."""
    env = sandbox_env(limits)
    home = str(scratch.work)
    env.update(HOME=home, MPLCONFIGDIR=f"{home}/.config/matplotlib", TMPDIR=home)
    return env


def _set_limits(memory: int, cpu: int, fsize: int) -> None:
    if not (memory or cpu or fsize):
        return
    import resource  # POSIX only; a learner's check on Windows sets no limit

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if cpu > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 10))
    if fsize > 0:
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))


def main(argv: list[str] | None = None) -> None:
    """Kernel launcher: set the limits on this process, then become an IPython kernel."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m rnncourse.grading.sandbox")
    parser.add_argument("--memory", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=0)
    parser.add_argument("--fsize", type=int, default=0)
    parser.add_argument("-f", dest="connection_file", required=True)
    args = parser.parse_args(argv)
    _set_limits(args.memory, args.cpu, args.fsize)
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance(argv=["-f", args.connection_file])


if __name__ == "__main__":
    main()
