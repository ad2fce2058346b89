"""Old module names kept importable for one release (0.1.x), with a DeprecationWarning.

Release 0.1.0 had every module at the top level (``rnncourse.device``, ``rnncourse.checks``,
...). They now live in packages by stage; notebooks written against the old names keep
working until 0.2.0, which drops this file. ``import rnncourse.checks`` gives the very module
object ``rnncourse.grading.checks`` (so patching either patches both).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

REMOVED_IN = "0.2.0"
MOVED = {
    "rnncourse.device": "rnncourse.runtime.device",
    "rnncourse.threads": "rnncourse.runtime.threads",
    "rnncourse.processes": "rnncourse.runtime.processes",
    "rnncourse.profiles": "rnncourse.runtime.profiles",
    "rnncourse.progress": "rnncourse.runtime.progress",
    "rnncourse.files": "rnncourse.runtime.files",
    "rnncourse.models": "rnncourse.nn.models",
    "rnncourse.language_model": "rnncourse.nn.language_model",
    "rnncourse.padded": "rnncourse.nn.padded",
    "rnncourse.decoding": "rnncourse.nn.decoding",
    "rnncourse.sampling": "rnncourse.nn.sampling",
    "rnncourse.checkpoint": "rnncourse.deploy.checkpoint",
    "rnncourse.serve": "rnncourse.deploy.serve",
    "rnncourse.latency": "rnncourse.deploy.latency",
    "rnncourse.checks": "rnncourse.grading.checks",
    "rnncourse.device_info": "rnncourse.info",
}


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        new = MOVED.get(name)
        if new is None:
            return None
        warnings.warn(f"{name} moved to {new}; the old name goes in rnncourse {REMOVED_IN}",
                      DeprecationWarning, stacklevel=2)
        return importlib.util.spec_from_loader(name, _Alias(new))


def install() -> None:
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
