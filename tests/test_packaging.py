"""Packaging: the pins agree everywhere and the light install stays light."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import yaml

from conftest import ROOT


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pins(requirements) -> dict[str, str]:
    pins = {}
    for req in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", req.strip())
        assert match, f"{req!r} is not pinned exactly (name==version)"
        pins[match.group(1).lower()] = match.group(2)
    return pins


def _all_pins() -> dict[str, str]:
    """The base dependencies' and every extra's pins, by lower-case name."""
    project = _pyproject()["project"]
    pins = _pins(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        pins.update(_pins(extra))
    return pins


def test_every_dependency_is_pinned_and_torch_is_2_13_0():
    pins = _all_pins()
    assert pins["torch"] == "2.13.0"
    assert pins["jupyter-book"] == "1.0.4.post1" and pins["nbgrader"] == "0.9.6"


def test_student_install_is_light():
    base = set(_pins(_pyproject()["project"]["dependencies"]))
    assert not base & {"jupyter-book", "nbgrader", "pytest", "jupytext"}, "authoring tools leaked into the base install"


def test_environment_yml_mirrors_the_pins():
    expected = _all_pins()
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    conda_pins = _pins([p for p in pip_section if not p.startswith("-e")])
    assert conda_pins == expected
    assert "python=3.11" in env["dependencies"]


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    for name, pinned in _all_pins().items():
        installed = version(name).split("+")[0]
        assert installed == pinned, f"{name} {installed} is installed but {pinned} is pinned: run `make env`"


def test_cli_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "rnncourse", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("info", "download", "check", "grade"):
        assert command in out.stdout
