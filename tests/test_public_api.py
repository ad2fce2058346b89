"""Chapters and assignments use only rnncourse's public names (those in each module's __all__).

d2l's readers had their code broken when helper names changed; keeping the names the book uses
few and listed is what lets us keep them stable.
"""

from __future__ import annotations

import ast
import importlib

import pytest

from conftest import ROOT

SOURCES = sorted([*ROOT.glob("book/chapters/*.md"), *ROOT.glob("solutions/*/*.md")])
PUBLIC_MODULES = {"rnncourse", "rnncourse.deploy.checkpoint", "rnncourse.grading.checks", "rnncourse.data",
                  "rnncourse.nn.decoding", "rnncourse.nn.mt_eval", "rnncourse.runtime.device", "rnncourse.nn.language_model", "rnncourse.nn.gpt", "rnncourse.nn.lm_metrics", "rnncourse.deploy.latency", "rnncourse.deploy.export", "rnncourse.nn.models",
                  "rnncourse.nn.padded", "rnncourse.nn.scan", "rnncourse.nn.minrnn", "rnncourse.plot", "rnncourse.nn.sampling", "rnncourse.deploy.serve",
                  "rnncourse.train"}


def _code(path):
    import jupytext

    for cell in jupytext.read(path).cells:
        if cell.cell_type == "code":
            lines = [l for l in cell.source.splitlines() if not l.lstrip().startswith(("%", "!"))]
            yield "\n".join(lines)


def _uses(path):
    """(module, name) for every rnncourse import and attribute access in the file's code."""
    for code in _code(path):
        tree = ast.parse(code)
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rnncourse":
                for alias in node.names:
                    yield node.module, alias.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "rnncourse":
                        aliases[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                yield aliases[node.value.id], node.attr


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_only_public_names_are_used(path):
    for module_name, name in _uses(path):
        if f"{module_name}.{name}" in PUBLIC_MODULES:
            continue  # `from rnncourse import data`
        assert module_name in PUBLIC_MODULES, f"{path.name} imports from {module_name}, which is not a public module"
        module = importlib.import_module(module_name)
        assert name in getattr(module, "__all__", []), f"{path.name} uses {module_name}.{name}, which is not public"


@pytest.mark.parametrize("old", ["rnncourse.checks", "rnncourse.device", "rnncourse.serve"])
def test_a_moved_module_still_imports_for_one_release_with_a_warning(old):
    import subprocess
    import sys

    from rnncourse._moved import MOVED

    code = (f"import warnings, importlib\nwarnings.simplefilter('error')\n"
            f"try:\n    importlib.import_module({old!r})\nexcept DeprecationWarning as e:\n    print(e)\n"
            f"warnings.simplefilter('ignore')\n"
            f"print(importlib.import_module({old!r}) is importlib.import_module({MOVED[old]!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert f"{old} moved to {MOVED[old]}" in out and out.strip().endswith("True"), out
