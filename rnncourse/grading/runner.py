"""Execute a notebook cell by cell in a fresh kernel, with time limits.

Shared by ``rnncourse check`` (the learner's own kernel) and ``rnncourse grade`` (a sandboxed
kernel, :mod:`rnncourse.grading.sandbox`); :mod:`rnncourse.grading.scoring` scores the result.
The grader drives the kernel from outside, over the Jupyter protocol, one cell at a time:

* **Time.** A cell that runs longer than ``cell_timeout`` is interrupted (an interrupt
  *message*: signals do not cross the sandbox's PID namespace) and the next cell runs; a cell
  that ignores the interrupt for :data:`INTERRUPT_GRACE_S`, or a notebook that runs longer than
  ``timeout`` in all, has its kernel killed, and the cells not yet run count as not run.
* **Kernel fate.** A kernel that exits (``os._exit``, ``exit()``) or dies (a signal, the CPU
  time limit, a crash) ends the run; its exit status says which.
* **Test cells** (nbgrader ``grade: true`` code cells) run wrapped by the guard
  (:mod:`rnncourse.grading.guard`) with a fresh random token each.
* **Outputs** are kept as nbformat outputs, at most :data:`OUTPUT_LIMIT` characters per cell
  (a notebook that prints gigabytes cannot exhaust the grader), with the guard's lines removed.
"""

from __future__ import annotations

import ast
import json
import queue
import re
import secrets
import signal
import subprocess
import time
from pathlib import Path

import nbformat

from rnncourse.grading.cells import nbgrader, test_cells
from rnncourse.grading.sandbox import CPU_MARGIN_S, Limits, Scratch, kernel_spec
from rnncourse.grading.outcomes import CellRun, Run, Status

__all__ = ["import_bindings", "run_notebook"]

INTERRUPT_GRACE_S = 10.0
OUTPUT_LIMIT = 100_000
GRADING_KERNEL = "rnncourse-grading"  # the kernelspec the grader writes into each run's scratch
GUARD = '__import__("rnncourse.grading.guard", fromlist=["report"]).report'


def import_bindings(nb: nbformat.NotebookNode) -> list[tuple[str, str, str | None]]:
    """``(name, module, attribute)`` for every name the locked code cells bind by import.

    It parses with :mod:`ast`: call it from one thread at a time (CPython 3.11's AST objects are
    not thread-safe, python/cpython#106905).
    """
    bindings = []
    for cell in nb.cells:
        if cell.cell_type != "code" or not nbgrader(cell).get("locked"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        bindings.append((alias.asname, alias.name, None))
                    else:
                        top = alias.name.split(".")[0]
                        bindings.append((top, top, None))
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        bindings.append((alias.asname or alias.name, node.module, alias.name))
    return bindings


class _Kernel:
    """A kernel started from :func:`~rnncourse.grading.sandbox.kernel_spec`."""

    def __init__(self, limits: Limits, scratch: Scratch, sandboxed: bool, grading: bool, cwd: Path | None,
                 env: dict | None):
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpecManager

        spec = kernel_spec(limits, scratch, sandboxed, grading)
        spec_dir = scratch.private / "kernels" / GRADING_KERNEL
        spec_dir.mkdir(parents=True, exist_ok=True)
        (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
        self.stderr_path = scratch.private / "kernel-stderr.txt"
        self.km = KernelManager(
            kernel_name=GRADING_KERNEL,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(scratch.private / "kernels")]),
            connection_file=str(scratch.conn / "kernel.json"),
            # Unix sockets cross the sandbox's network namespace; TCP on localhost elsewhere
            **({"transport": "ipc", "ip": str(scratch.conn / "k")} if sandboxed else {}),
        )
        self.cwd, self.env = cwd, env
        self.kc = None

    def start(self, timeout: float) -> None:
        with open(self.stderr_path, "wb") as stderr:
            kwargs = {"stdout": subprocess.DEVNULL, "stderr": stderr}
            if self.cwd is not None:
                kwargs["cwd"] = str(self.cwd)
            if self.env is not None:
                kwargs["env"] = self.env
            self.km.start_kernel(**kwargs)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=timeout)

    def exit_code(self) -> int | None:
        process = getattr(self.km.provisioner, "process", None)
        code = process.poll() if process is not None else None
        if code is not None and code < 0:  # killed by a signal, no bwrap in between
            code = 128 - code
        return code

    def alive(self) -> bool:
        return bool(self.km.is_alive())

    def stderr_tail(self, n: int = 4000) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - n))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        try:
            if self.kc is not None:
                self.kc.stop_channels()
        finally:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:  # it never started, or its manager is confused: kill what there is
                process = getattr(self.km.provisioner, "process", None)
                if process is not None:
                    process.kill()
            try:
                self.km.cleanup_resources()
            except OSError:
                pass


class _Stop(Exception):
    """The run ends here: ``fate`` and ``detail`` say why."""

    def __init__(self, fate: Status, detail: str):
        super().__init__(detail)
        self.fate, self.detail = fate, detail


def _add_output(cell, out, size: list[int]) -> None:
    """Append ``out`` to ``cell.outputs``, merging streams, within :data:`OUTPUT_LIMIT` characters."""
    text = json.dumps(out)
    if size[0] >= OUTPUT_LIMIT:
        return
    size[0] += len(text)
    if size[0] > OUTPUT_LIMIT:
        out = nbformat.v4.new_output("stream", name="stderr",
                                     text=f"\n[output cut by the grader at {OUTPUT_LIMIT} characters]\n")
    outputs = cell.outputs
    if out.output_type == "stream" and outputs and outputs[-1].output_type == "stream" and outputs[-1].name == out.name:
        outputs[-1].text += out.text
    else:
        outputs.append(out)


def _run_cell(kernel: _Kernel, cell, code: str, result: CellRun, limits: Limits, deadline: float,
              token: str | None, stop=None) -> None:
    """Execute ``code``, filling ``cell.outputs`` and ``result``; raise :class:`_Stop` to end the run."""
    kc = kernel.kc
    msg_id = kc.execute(code, silent=False, store_history=token is None, allow_stdin=False, stop_on_error=False)
    start = time.monotonic()
    cell_deadline = start + limits.cell_timeout if limits.cell_timeout else float("inf")
    interrupted_at = None
    reply, idle, size = None, False, [0]
    guard = re.compile(rf"\n?{token}:(before|after):(ok|tampered):([^\n]*)\n?") if token else None
    cell.outputs, cell.execution_count = [], None
    next_alive_check = start
    while reply is None or not idle:
        now = time.monotonic()
        if stop is not None and stop.is_set():
            raise _Stop(Status.CANCELLED, "grading was interrupted")
        if now >= deadline:
            result.status = Status.TIMEOUT
            raise _Stop(Status.TIMEOUT, f"the notebook ran longer than its limit of {limits.timeout:g} s")
        if reply is None and interrupted_at is None and now >= cell_deadline:
            interrupted_at = now
            result.status = Status.TIMEOUT
            kernel.km.interrupt_kernel()
        if interrupted_at is not None and reply is None and now - interrupted_at > INTERRUPT_GRACE_S:
            raise _Stop(Status.TIMEOUT, f"a cell ran longer than {limits.cell_timeout:g} s and did not stop when interrupted")
        if now >= next_alive_check:
            next_alive_check = now + 0.5
            if not kernel.alive():
                raise _Stop(Status.DIED, "the kernel stopped")
        try:
            msg = kc.get_iopub_msg(timeout=0.05)
        except queue.Empty:
            msg = None
        if msg is not None and msg.get("parent_header", {}).get("msg_id") == msg_id:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                idle = True
            elif kind == "clear_output":
                cell.outputs, size = [], [0]
            elif kind == "execute_input":
                cell.execution_count = content.get("execution_count")
            elif kind in ("stream", "display_data", "execute_result", "error"):
                if kind == "stream" and guard is not None and content.get("name") == "stdout":
                    text = content["text"]
                    for stage, state, detail in guard.findall(text):
                        result.guard_lines.append((stage, state, detail))
                    content = {**content, "text": guard.sub("", text)}
                    msg = {**msg, "content": content}
                    if not content["text"]:
                        continue
                try:
                    out = nbformat.v4.output_from_msg(msg)
                except ValueError:
                    continue
                _add_output(cell, out, size)
        if reply is None:
            try:
                shell = kc.get_shell_msg(timeout=0)
            except queue.Empty:
                shell = None
            if shell is not None and shell.get("parent_header", {}).get("msg_id") == msg_id:
                reply = shell["content"]
                if reply.get("status") == "error":
                    result.status = Status.TIMEOUT if interrupted_at is not None else Status.ERROR
                    result.ename, result.evalue = reply.get("ename", ""), reply.get("evalue", "")
                elif result.status != Status.TIMEOUT:
                    result.status = Status.OK
                if any(p.get("source") == "ask_exit" for p in reply.get("payload", [])):
                    result.exit_requested = True
    if interrupted_at is not None:
        note = f"The grader stopped this cell: it ran longer than {limits.cell_timeout:g} s."
        cell.outputs.append(nbformat.v4.new_output("error", ename="CellTimeoutError", evalue=note, traceback=[note]))
    if result.exit_requested:
        raise _Stop(Status.EXITED, "the notebook asked the kernel to exit")


def _death(code: int | None, limits: Limits) -> tuple[Status, str]:
    """``(fate, detail)`` from the exit status of a kernel that stopped on its own."""
    if code is None:
        return Status.DIED, "the kernel stopped"
    if code < 128:
        return Status.EXITED, f"the notebook ended the Python process (exit status {code})"
    number = code - 128
    if number == getattr(signal, "SIGXCPU", None):
        return Status.TIMEOUT, f"the notebook used more than the {limits.timeout + CPU_MARGIN_S:g} s of CPU time it may use"
    if number == getattr(signal, "SIGXFSZ", None):
        return Status.DIED, f"the notebook wrote a file larger than the limit of {limits.disk // 2**20} MB"
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    return Status.DIED, f"it was killed by {name}" + (" (a crash)" if name in ("SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL") else "")


def _wrap(code: str, token: str) -> str:
    return f'{GUARD}("{token}", globals(), "before")\n{code}\n{GUARD}("{token}", globals(), "after")\n'


def run_notebook(nb: nbformat.NotebookNode, limits: Limits, scratch: Scratch, *, sandboxed: bool,
                 grading: bool = True, cwd: Path | None = None, env: dict | None = None, stop=None,
                 bindings: list[tuple[str, str, str | None]] | None = None) -> Run:
    """Execute every code cell of ``nb`` (a copy); test cells run between the guard's checks.

    ``grading`` ``False`` for a learner's own check (see :func:`~rnncourse.grading.sandbox.kernel_spec`).
    ``stop``: a ``threading.Event``; when it is set the kernel is killed and the run ends as
    ``cancelled``. ``bindings``: :func:`import_bindings` of the locked cells, worked out once by
    a caller that runs notebooks in several threads (``ast`` is not thread-safe in CPython 3.11).
    """
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    tests = set(test_cells(nb))
    run = Run(nb=nb, cells={i: CellRun() for i, c in enumerate(nb.cells) if c.cell_type == "code"})
    kernel = _Kernel(limits, scratch, sandboxed, grading, cwd, env)
    started = time.monotonic()
    try:
        try:
            kernel.start(limits.startup_timeout)
        except Exception as err:  # the kernel never answered: a grader problem, not the student's
            run.fate, run.detail = Status.START_FAILED, f"the kernel did not start: {err}"
            return run
        deadline = time.monotonic() + limits.timeout if limits.timeout else float("inf")
        try:
            arm = nbformat.v4.new_code_cell()
            armed = CellRun()
            bindings = import_bindings(nb) if bindings is None else bindings
            _run_cell(kernel, arm, f'__import__("rnncourse.grading.guard", fromlist=["arm"]).arm({bindings!r})',
                      armed, Limits(cell_timeout=limits.startup_timeout, timeout=limits.timeout), deadline, None, stop)
            if armed.status != Status.OK:
                run.fate, run.detail = Status.START_FAILED, f"the grader's guard did not start: {armed.ename}: {armed.evalue}"
                return run
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                if not cell.source.strip():
                    run.cells[i].status = Status.OK
                    continue
                token = secrets.token_hex(16) if i in tests else None
                code = _wrap(cell.source, token) if token else cell.source
                run.stopped_at = i
                _run_cell(kernel, cell, code, run.cells[i], limits, deadline, token, stop)
            run.stopped_at = None
        except _Stop as ended:
            run.fate, run.detail = ended.fate, ended.detail
            if ended.fate == Status.DIED:
                time.sleep(0.2)
                run.exit_code = kernel.exit_code()
                run.fate, run.detail = _death(run.exit_code, limits)
                run.stderr_tail = kernel.stderr_tail()
    finally:
        kernel.stop()
        run.seconds = time.monotonic() - started
    return run
