"""The pieces of the grader that need no kernel: the sandbox's command line and limits, the
integrity guard against the usual ways of faking a pass, and the refusal to grade unsafely."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnncourse.grading import guard
from rnncourse.grading.sandbox import Limits, Scratch, kernel_spec, parse_size, sandbox_problem

ROOT = Path(__file__).resolve().parents[2]


def test_sizes():
    assert parse_size("1500M") == 1500 * 2**20 and parse_size("4G") == 4 * 2**30 and parse_size("512k") == 2**19
    assert parse_size("none") is None and parse_size(None) is None and parse_size(123) == 123
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


@pytest.mark.skipif(sandbox_problem() is not None, reason=f"no sandbox here: {sandbox_problem()}")
def test_sandbox_sees_no_course_and_no_network(tmp_path):
    argv = kernel_spec(Limits(), Scratch(tmp_path), sandboxed=True)["argv"]
    binds = {argv[i + 1] for i, a in enumerate(argv) if a in ("--ro-bind", "--bind")}
    assert str(ROOT) not in binds and not any(Path(b) == ROOT / "solutions" for b in binds)
    assert {"--unshare-all", "--die-with-parent", "--clearenv"} <= set(argv)
    assert argv[argv.index("--") + 1:][:3] == [sys.executable, "-m", "rnncourse.grading.sandbox"]
    probe = argv[: argv.index("--") + 1] + [sys.executable, "-c", (
        "import os, socket\n"
        f"assert not os.path.exists({str(ROOT / 'solutions')!r})\n"
        f"assert not os.path.exists({str(tmp_path / 'private')!r})\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\nexcept OSError: pass\n"
        "else: raise SystemExit('network')\n"
        "import resource; print(os.getcwd(), os.environ['HOME'])")]
    run = subprocess.run(probe, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["/home/student/work", "/home/student"]


def test_grade_refuses_without_a_sandbox(tmp_path):
    run = subprocess.run([sys.executable, "-m", "rnncourse", "grade", "00-any", str(tmp_path), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120, env={"PATH": "/nonexistent"})
    assert run.returncode == 2
    assert "refusing to grade without a sandbox" in run.stderr and "apt-get install bubblewrap" in run.stderr
    assert "--unsafe-no-sandbox" in run.stderr and not (tmp_path / "o").exists()


@pytest.fixture
def armed():
    """The guard armed in this process, as the grader arms it in a kernel; returns a checker."""
    torch = pytest.importorskip("torch")
    namespace, out = {}, io.StringIO()
    exec("import numpy as np\nimport torch\nfrom torch import nn\nfrom rnncourse.grading.checks import check_close", namespace)
    guard.arm([("np", "numpy", None), ("torch", "torch", None), ("nn", "torch.nn", None),
               ("check_close", "rnncourse.grading.checks", "check_close")], stream=out)

    def report():
        guard.report("T0KEN", namespace, "before")
        line = out.getvalue().strip().splitlines()[-1]
        assert line.startswith("T0KEN:before:")
        return line.split(":", 3)[2:]

    yield namespace, report, torch
    assert report() == ["ok", ""], "the guard left something changed"


def test_guard_passes_an_honest_notebook(armed):
    namespace, report, torch = armed
    exec("import matplotlib\nx = torch.nn.LSTM(3, 4)(torch.randn(2, 1, 3))[0]\ncheck_close(x, x, 'x')\n"
         "def rel_error(a, b):\n    return 0.0\n", namespace)
    assert report() == ["ok", ""]


GENERATION_TAGGING = """
import io, types
import torch
from torch import nn
from rnncourse.grading import guard

out = io.StringIO()
guard.arm([("torch", "torch", None), ("nn", "torch.nn", None)], stream=out)
original = nn.Module.__init__


def state(stage):
    guard.report("T0KEN", {}, stage)
    return out.getvalue().strip().splitlines()[-1].split(":", 3)[2:]


from torch._dynamo.mutation_guard import install_generation_tagging_init
install_generation_tagging_init()          # what torch.onnx.export(dynamo=True) does to nn.Module
patched = nn.Module.__init__
assert patched is not original and patched.__closure__[0].cell_contents is original
print(state("torch"))
nn.Module.__init__ = types.FunctionType(patched.__code__, {"GenerationTracker": None},
                                        closure=patched.__closure__)
print(state("other-globals"))
print(nn.Module.__init__ is patched)
nn.Module.__init__ = types.FunctionType(patched.__code__, patched.__globals__,
                                        closure=(types.CellType(lambda self, *a, **k: None),))
print(state("other-closure"))
"""


def test_guard_accepts_torchs_own_module_tagging_and_no_look_alike():
    """The first dynamo trace in a process (an ONNX export with dynamo=True) replaces
    nn.Module.__init__ and __setstate__ with torch's wrappers that call the originals: not
    tampering. A function with their code but other globals or another closure still is."""
    run = subprocess.run([sys.executable, "-c", GENERATION_TAGGING], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    assert lines[0] == "['ok', '']"
    assert lines[1].startswith("['tampered', 'torch.nn.modules.module.Module.__init__ was replaced")
    assert lines[2] == "True"                                         # the guard put torch's back
    assert lines[3].startswith("['tampered', 'torch.nn.modules.module.Module.__init__ was replaced")


@pytest.mark.parametrize("attack, words", [
    ("np.allclose = lambda *a, **k: True", "numpy.allclose was replaced"),
    ("import rnncourse.grading.checks\nrnncourse.grading.checks.check_close = lambda *a, **k: None", "rnncourse.grading.checks.check_close"),
    ("check_close = lambda *a, **k: None", "'check_close', which the tests use, was redefined"),
    ("np = type('FakeNumpy', (), {})()", "'np', which the tests use, was redefined"),
    ("torch.testing.assert_close.__code__ = (lambda *a, **k: None).__code__", "the code of"),
    ("torch.Tensor.allclose = lambda *a, **k: True", "torch.Tensor.allclose was replaced"),
    ("nn.LSTM.forward = lambda self, *a: a", "LSTM.forward was replaced"),
    ("import builtins\nbuiltins.isinstance = lambda *a: True", "builtins.isinstance was replaced"),
    ("import builtins\nbuiltins.vars = builtins.len = lambda *a: {}", "builtins.vars was replaced"),
    ("get_ipython = None\nimport rnncourse.grading.checks as c\nc.np = type('N', (), {'isclose': None})", "rnncourse.grading.checks.np"),
    ("import sys\nsys.modules['numpy'] = None", "sys.modules['numpy'] was replaced"),
    ("import sys\nsys.settrace(lambda *a: None)", "a trace or profile function"),
])
def test_guard_reports_and_undoes_tampering(armed, attack, words):
    namespace, report, torch = armed
    original = np.allclose
    exec(attack, namespace)
    state, detail = report()
    assert state == "tampered" and words in detail
    assert np.allclose is original and not np.allclose(1, 2)
