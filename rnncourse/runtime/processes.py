"""Facts about processes on this machine, without importing torch: the CPUs this process may
use and whether another process is still alive."""

from __future__ import annotations

import os

__all__ = ["cpu_count", "pid_alive"]


def cpu_count() -> int:
    """The cores this process may use (containers and ``taskset`` give fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (one of another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
