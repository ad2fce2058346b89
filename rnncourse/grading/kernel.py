"""Pin the Jupyter kernel to the running interpreter.

Notebooks name their kernel ``python3``. Jupyter looks that name up in ``JUPYTER_PATH`` first,
then in the user's own folders, then in the environment's; a stale user-level ``python3``
kernelspec would therefore silently execute (or grade) notebooks with another interpreter and
other packages. Every place where the course executes a notebook goes through
:func:`pinned_kernel_env`, which puts a kernelspec that runs *this* interpreter at the front.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

from rnncourse.runtime.files import write_atomically

__all__ = ["NOTEBOOK_KERNEL", "pin_kernel_here", "pinned_kernel_dir", "pinned_kernel_env"]

NOTEBOOK_KERNEL = "python3"  # the kernel name every course notebook asks for


def pinned_kernel_dir(python: str | None = None) -> Path:
    """A data folder whose ``kernels/python3`` runs ``python`` (default: this interpreter)."""
    python = python or sys.executable
    digest = hashlib.sha256(python.encode()).hexdigest()[:12]
    root = Path(tempfile.gettempdir()) / f"rnncourse-kernel-{digest}"
    spec_dir = root / "kernels" / NOTEBOOK_KERNEL
    spec = {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (rnncourse)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    spec_file = spec_dir / "kernel.json"
    text = json.dumps(spec, indent=1)
    if not spec_file.exists() or spec_file.read_text() != text:
        write_atomically(spec_file, text)
    return root


def pinned_kernel_env(env: dict[str, str] | None = None, python: str | None = None) -> dict[str, str]:
    """A copy of ``env`` (default ``os.environ``) whose ``JUPYTER_PATH`` starts with the pinned kernel."""
    env = dict(os.environ if env is None else env)
    first = str(pinned_kernel_dir(python))
    rest = [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p and p != first]
    env["JUPYTER_PATH"] = os.pathsep.join([first, *rest])
    return env


def pin_kernel_here() -> None:
    """Pin the kernel for notebooks executed by this process (nbclient, nbgrader in-process).

    Also puts this interpreter's ``bin`` folder first on ``PATH``: nbgrader runs tools of its
    environment (``alembic``) as sub-processes.
    """
    os.environ["JUPYTER_PATH"] = pinned_kernel_env()["JUPYTER_PATH"]
    bindir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "").split(os.pathsep)
    if not path or path[0] != bindir:
        os.environ["PATH"] = os.pathsep.join([bindir, *[p for p in path if p != bindir]])
