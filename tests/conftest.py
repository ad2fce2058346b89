"""Shared fixtures. Everything here runs on a CPU; notebooks run under the `smoke` profile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """``(build_dir, result)``: the whole book built once under ``smoke`` with ``-W -n``, fresh.

    test_book.py and test_browser.py share it. They may run on different pytest-xdist workers, so
    the first worker to get here builds into a folder all workers share, under a file lock, and
    the others wait for it and reuse that build (each worker's session fixture runs once).
    """
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above each worker's own
    out = shared / "book"
    record = shared / "book-build.json"
    with FileLock(str(shared / "book-build.lock")):
        if not record.exists():
            out.mkdir(exist_ok=True)
            jb = Path(sys.executable).parent / "jupyter-book"
            # Datasets go to a cache of this test's own (the user's cache is left alone), read from
            # the offline mirror when there is one, else downloaded from the official homes.
            data = {"RNNCOURSE_DATA": str(out / "data")}
            if mirror_dir():
                data["RNNCOURSE_MIRROR"] = str(mirror_dir())
            result = subprocess.run(
                [str(jb), "build", str(ROOT / "book"), "--path-output", str(out), "--builder", "html",
                 "-W", "-n", "--keep-going"],
                env=smoke_env(**data), capture_output=True, text=True, timeout=1500,
            )
            record.write_text(json.dumps({"args": result.args, "returncode": result.returncode,
                                          "stdout": result.stdout, "stderr": result.stderr}))
    done = json.loads(record.read_text())
    return out / "_build", subprocess.CompletedProcess(**done)
