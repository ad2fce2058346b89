"""Run profiles: how big every chapter's work is.

A chapter never changes its code path with the profile, only its sizes and epochs::

    from rnncourse import by_profile
    EPOCHS = by_profile(smoke=1, cpu=4, gpu=20)

``smoke``  seconds, tiny data: the test suite and CI.
``cpu``    meaningful results on a 2-core laptop in minutes.
``gpu``    the course's reference numbers.

The profile comes from the ``RNNCOURSE_PROFILE`` environment variable; without it the
default is ``gpu`` when CUDA is available and ``cpu`` otherwise.
"""

from __future__ import annotations

import os
from typing import TypeVar

PROFILES = ("smoke", "cpu", "gpu")
ENV_VAR = "RNNCOURSE_PROFILE"

T = TypeVar("T")


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # the library's pure-Python parts work without torch
        return False
    return torch.cuda.is_available()


def get_profile() -> str:
    """The active profile: ``RNNCOURSE_PROFILE`` if set, else ``gpu`` with CUDA, else ``cpu``."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value:
        if value not in PROFILES:
            raise ValueError(
                f"{ENV_VAR}={os.environ[ENV_VAR]!r} is not a profile; "
                f"use one of {', '.join(PROFILES)} (or unset it for the default)."
            )
        return value
    return "gpu" if _cuda_available() else "cpu"


def profile_source() -> str:
    """Why the active profile was chosen, in words (for ``rnncourse info`` and the book)."""
    if os.environ.get(ENV_VAR, "").strip():
        return f"set by {ENV_VAR}"
    return "default: CUDA is available" if _cuda_available() else "default: no CUDA device"


def by_profile(*, smoke: T, cpu: T, gpu: T) -> T:
    """Pick the value for the active profile, e.g. ``by_profile(smoke=64, cpu=2_000, gpu=25_000)``."""
    return {"smoke": smoke, "cpu": cpu, "gpu": gpu}[get_profile()]


def environment_summary() -> str:
    """One line that says which profile and hardware produced a page's numbers.

    Every chapter prints it in its first code cell, e.g.
    ``profile cpu (default: no CUDA device) · torch 2.13.0+cpu · CPU, 1 thread (x86_64; 1 of 2
    cores free)``.

    It also decides PyTorch's CPU thread count for the rest of the process, once, from the cores
    that are free (:func:`rnncourse.runtime.threads.use_free_cores`), so every page and assignment that
    prints it runs with a thread count that suits the machine as it is now.
    """
    import platform

    import torch

    from rnncourse.runtime.threads import use_free_cores

    threads, why = use_free_cores()

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        hardware = f"GPU {props.name} ({props.total_memory / 2**30:.0f} GiB)"
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        hardware = "Apple GPU (MPS)"
    else:
        plural = "" if threads == 1 else "s"
        hardware = f"CPU, {threads} thread{plural} ({platform.machine() or 'unknown'}; {why})"
    return f"profile {get_profile()} ({profile_source()}) · torch {torch.__version__} · {hardware}"
