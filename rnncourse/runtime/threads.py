"""How many CPU threads PyTorch uses: decided here, once per process, for every page and assignment.

On a 2-core machine two threads make a training step about 25% faster than one while the machine
is idle, but about 3x slower while another process holds a core (the two threads wait on each
other). So the course counts the cores that are free right now and uses that many::

    from rnncourse.runtime.threads import use_free_cores
    threads, reason = use_free_cores()   # environment_summary() calls it for every page

The rules, first match wins:

1. ``RNNCOURSE_THREADS=N`` (a positive integer): N threads.
2. ``OMP_NUM_THREADS=N``, the standard variable (the test suite sets 1): N threads.
3. The free cores: the cores this process may use (``os.sched_getaffinity``), minus the work of
   other processes measured over a quarter of a second (``/proc/stat`` on Linux; elsewhere the
   1-minute load average), rounded to the nearest whole core, at least one.

The first call decides and later calls report the same decision, so a page's numbers come from one
thread count. :func:`set_threads` overrides it explicitly (the benchmarks' ``--threads``).
"""

from __future__ import annotations

import os
import time

from rnncourse.runtime.processes import cpu_count

__all__ = ["ENV_VAR", "choose_threads", "set_threads", "use_free_cores", "usable_cores"]

ENV_VAR = "RNNCOURSE_THREADS"
_SAMPLE_SECONDS = 0.25
_decided: tuple[int, str] | None = None


def usable_cores() -> int:
    """The cores this process may run on (containers and ``taskset`` restrict them)."""
    return cpu_count()


def _busy_cores_now(seconds: float = _SAMPLE_SECONDS) -> float | None:
    """Cores' worth of work the machine did over ``seconds`` (Linux ``/proc/stat``), or None."""

    def sample():
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    busy_fraction = 1.0 - (idle1 - idle0) / (total1 - total0)
    return busy_fraction * (os.cpu_count() or 1)


def _positive_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f"{name}={value!r} is not a number of threads; use a whole number >= 1 "
                         f"(or unset it to use the free cores).")
    return number


def choose_threads() -> tuple[int, str]:
    """The thread count the rules above give now, and the reason in words; changes nothing."""
    for name in (ENV_VAR, "OMP_NUM_THREADS"):
        number = _positive_int(name)
        if number is not None:
            return number, f"{name}={number}"
    cores = usable_cores()
    busy = _busy_cores_now()
    if busy is None:
        try:
            busy = os.getloadavg()[0]
        except (AttributeError, OSError):
            return cores, f"{cores} usable cores"
    free = max(1, min(cores, int(cores - busy + 0.5)))
    return free, f"{free} of {cores} cores free"


def set_threads(number: int, reason: str | None = None) -> tuple[int, str]:
    """Use ``number`` threads from now on in this process, whatever the rules say."""
    global _decided
    import torch

    if number < 1:
        raise ValueError(f"the number of threads must be at least 1, not {number}")
    torch.set_num_threads(number)
    _decided = (number, reason or f"set to {number}")
    return _decided


def use_free_cores() -> tuple[int, str]:
    """Apply :func:`choose_threads` the first time it is called; return ``(threads, reason)``."""
    if _decided is not None:
        return _decided
    return set_threads(*choose_threads())
