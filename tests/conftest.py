"""Shared fixtures. Everything here runs on a CPU; notebooks run under the `smoke` profile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# pytest runs two workers on CI's two cores; torch's default of one thread per core in each
# would oversubscribe them many times over (set before anything imports torch).
os.environ.setdefault("OMP_NUM_THREADS", "1")
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


def mirror_dir() -> Path | None:
    """The offline data mirror: RNNCOURSE_MIRROR when it is a folder, else ../shared/data."""
    value = os.environ.get("RNNCOURSE_MIRROR")
    if value and Path(value).is_dir():
        return Path(value)
    return SHARED_DATA if SHARED_DATA.is_dir() else None


def smoke_env(**extra: str) -> dict[str, str]:
    """The environment for executing notebooks in tests: smoke profile, pinned kernel."""
    from rnncourse.grading.kernel import pinned_kernel_env

    env = pinned_kernel_env()
    env["RNNCOURSE_PROFILE"] = "smoke"
    # Two test workers share two cores: one thread each, or torch's threads thrash.
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra)
    return env
