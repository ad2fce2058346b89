"""The grader's integrity guard: runs inside the student's kernel, around every test cell.

A test cell passes when its checks raise nothing. A submission can fake that without a correct
answer by changing what the checks compare against (``np.allclose = lambda *a, **k: True``,
``rnncourse.grading.checks.check_close = ...``, ``check_close = lambda *a, **k: None`` in the
notebook, ``nn.LSTM.forward = my_forward`` so that the reference agrees with the answer), or by
hiding the error (an IPython input or AST transformer, a custom exception handler, a patched
``showtraceback``, a trace function). The grader therefore runs every test cell as::

    <guard>.report(TOKEN, globals(), "before")   # check, restore what was changed, say so
    <the test cell, restored from the source>
    <guard>.report(TOKEN, globals(), "after")    # check again: the answer ran in between

:func:`arm` runs first, before any cell of the notebook: it imports the reference modules and
takes a snapshot of everything a test can reach through them (``numpy``, ``numpy.testing``,
``math``, ``torch`` with ``torch.nn``, ``torch.nn.functional``, ``torch.nn.utils.rnn``,
``torch.testing``, ``rnncourse.grading.checks`` with its ``refusals``, the builtins, and every module the notebook's locked
cells import): their functions and classes, the attributes of those classes along their MRO,
functions' code objects, ``sys.modules`` entries, the names the locked cells bind in the
notebook (``np``, ``torch``, ``check_close``, ...), the IPython shell's transformers, exception
handlers and execution methods, and the trace/profile hooks.

:func:`report` compares the current state with the snapshot, puts back whatever differs (so
nothing faked survives into the test), and writes one line ``TOKEN:stage:ok:`` or
``TOKEN:stage:tampered:<what>`` to the kernel's original stdout. ``TOKEN`` is a random string
the grader puts only into that cell's code, so no earlier cell can know it. The grader
(:mod:`rnncourse.grading.runner`) counts a test cell as passed only when it ran without error
*and* both lines say ``ok``; a missing line (the test did not run to its end, or its output was
suppressed) or a ``tampered`` line gives 0, and every later test cell gets 0 too.

Limits, stated plainly: this is detection inside the process that runs the student's code.
It catches changes to the checking machinery, including ones made while the test runs (by the
answer functions the test calls) as long as they are still in place when the test ends. Code
written specifically to defeat this guard (patching the guard itself, or reading the token from
the kernel's memory while its test runs and undoing every change before the test ends) is not
something an in-process check can rule out; hidden tests, the ``tampered`` status and the
instructor's review are the remaining lines of defence.
"""

from __future__ import annotations

import importlib
import sys
import types
# the guard's own builtins, bound here so that replacing them in ``builtins`` cannot blind it
from builtins import any, callable, delattr, getattr, id, isinstance, len, list, set, setattr, vars, zip

__all__ = ["arm", "report"]

REFERENCE_MODULES = (
    "builtins", "math", "numpy", "numpy.testing", "torch", "torch.nn", "torch.nn.functional",
    "torch.nn.utils.rnn", "torch.testing", "rnncourse.grading.checks", "rnncourse.grading.refusals",
)
SHELL_METHODS = (
    "run_cell", "run_cell_async", "run_ast_nodes", "run_code", "transform_cell", "transform_ast",
    "showtraceback", "_showtraceback", "showsyntaxerror", "get_exception_only", "ex", "ev",
)
KERNEL_METHODS = ("do_execute", "execute_request", "dispatch_shell", "send_response")
# names the kernel itself rebinds while it runs a cell (ipykernel swaps ``input`` per request)
KERNEL_OWNED = {"builtins": {"input", "raw_input", "exit", "quit", "get_ipython", "display", "help",
                             "copyright", "credits", "license", "_", "__", "___"}}
_MISSING = object()

_snapshot: dict = {}


def _is_reference(value) -> bool:
    return callable(value) or isinstance(value, types.ModuleType)


def _static(cls: type, name: str):
    """``name`` as looked up on ``cls`` along its MRO, without calling descriptors."""
    for klass in cls.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    return _MISSING


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def arm(bindings: list[tuple[str, str, str | None]] = (), stream=None) -> None:
    """Take the snapshot. ``bindings``: ``(name, module, attribute)`` for every name the locked
    cells bind by import (``("np", "numpy", None)``, ``("check_close", "rnncourse.grading.checks",
    "check_close")``); the modules are imported here, before any student code runs.
    ``stream``: where :func:`report` writes (default: ``sys.stdout`` as it is now)."""
    modules: dict[str, types.ModuleType] = {}
    for name in REFERENCE_MODULES + tuple(m for _, m, _ in bindings):
        try:
            modules[name] = importlib.import_module(name)
        except Exception:  # an optional module (torch missing) or a bad import in the source
            continue
    module_views = {name: {k: v for k, v in vars(mod).items()
                           if _is_reference(v) and k not in KERNEL_OWNED.get(name, ())}
                    for name, mod in modules.items()}
    classes = {}  # every class a test can reach, with the classes it inherits from
    for view in module_views.values():
        for value in view.values():
            if isinstance(value, type):
                for klass in value.__mro__[:-1]:
                    classes.setdefault(id(klass), klass)
    class_views = {key: (klass, {k: v for k, v in vars(klass).items() if _is_reference(v)})
                   for key, klass in classes.items()}
    expected = {}
    for name, module, attribute in bindings:
        if module in modules:
            value = modules[module] if attribute is None else getattr(modules[module], attribute, _MISSING)
            if value is not _MISSING:
                expected[name] = value
    functions = {}
    for view in [*module_views.values(), *(v for _, v in class_views.values())]:
        for value in view.values():
            code = getattr(value, "__code__", None)
            if isinstance(code, types.CodeType):
                functions[id(value)] = (value, code, getattr(value, "__defaults__", None),
                                        getattr(value, "__kwdefaults__", None))
    shell = _shell()
    shell_state = None
    if shell is not None:
        kernel = getattr(shell, "kernel", None)
        shell_state = {
            "shell": shell,
            "lists": {attr: list(getattr(shell, attr)) for attr in
                      ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")},
            "custom_exceptions": shell.custom_exceptions,
            "methods": {(obj, m): (vars(obj).get(m, _MISSING), _static(type(obj), m))
                        for obj, names in ((shell, SHELL_METHODS), (kernel, KERNEL_METHODS)) if obj is not None
                        for m in names},
        }
    torch = modules.get("torch")
    # torch wraps torch.manual_seed in its own ``_disable_dynamo`` when torch._dynamo is first
    # imported (an optimizer's constructor does that): that one replacement is torch's, not
    # the notebook's, and is recognised by the wrapper's code object and what it wraps
    wrapper = getattr(torch, "_disable_dynamo", None)
    dynamo_code = wrapper(lambda: None).__code__ if callable(wrapper) else None
    stdout = stream if stream is not None else sys.stdout
    _snapshot.clear()
    _snapshot.update(
        modules=modules, module_views=module_views, class_views=class_views, functions=functions,
        expected=expected, shell=shell_state, write=stdout.write, flush=stdout.flush, dynamo_code=dynamo_code,
        sys_modules={name: sys.modules.get(name) for name in modules},
    )


def _find_problems(namespace: dict, fix: bool) -> list[str]:
    """What differs from the snapshot; with ``fix``, put the snapshot's objects back."""
    found: list[str] = []
    snap = _snapshot
    for name, module in snap["sys_modules"].items():
        if sys.modules.get(name) is not module:
            found.append(f"sys.modules[{name!r}] was replaced")
            if fix:
                sys.modules[name] = module
    for name, view in snap["module_views"].items():
        module = snap["modules"][name]
        current = vars(module)
        for key, value in view.items():
            now = current.get(key, _MISSING)
            if now is not value and _torch_wrapper(now, value):
                view[key] = now  # torch's own wrapper around the original: the new reference
            elif now is not value:
                found.append(f"{name}.{key} was replaced")
                if fix:
                    setattr(module, key, value)
    for klass, view in snap["class_views"].values():
        current = vars(klass)
        for key in set(view) | {k for k, v in current.items() if _is_reference(v)}:
            now, before = current.get(key, _MISSING), view.get(key, _MISSING)
            if now is not before and _torch_wrapper(now, before):
                view[key] = now
            elif now is not before:
                found.append(f"{klass.__module__}.{klass.__qualname__}.{key} was replaced")
                if fix:
                    _set_attribute(klass, key, before)
    for value, code, defaults, kwdefaults in snap["functions"].values():
        if value.__code__ is not code or value.__defaults__ is not defaults or value.__kwdefaults__ is not kwdefaults:
            found.append(f"the code of {getattr(value, '__module__', '?')}.{value.__qualname__} was changed")
            if fix:
                value.__code__, value.__defaults__, value.__kwdefaults__ = code, defaults, kwdefaults
    for name, value in snap["expected"].items():
        if name in namespace and namespace[name] is not value:
            found.append(f"{name!r}, which the tests use, was redefined in the notebook")
            if fix:
                namespace[name] = value
    state = snap["shell"]
    if state is not None:
        shell = state["shell"]
        for attr, items in state["lists"].items():
            current = getattr(shell, attr)
            if len(current) != len(items) or any(a is not b for a, b in zip(current, items)):
                found.append(f"IPython's {attr} were changed")
                if fix:
                    current[:] = items
        if shell.custom_exceptions != state["custom_exceptions"]:
            found.append("a custom exception handler was installed in IPython")
            if fix:
                shell.set_custom_exc((), None)
        for (obj, method), (own, inherited) in state["methods"].items():
            if vars(obj).get(method, _MISSING) is not own or _static(type(obj), method) is not inherited:
                found.append(f"{type(obj).__name__}.{method} was replaced")
                if fix:
                    _set_attribute(type(obj), method, inherited)
                    if own is _MISSING:
                        vars(obj).pop(method, None)
                    else:
                        vars(obj)[method] = own
    if sys.gettrace() is not None or sys.getprofile() is not None:
        found.append("a trace or profile function was installed")
        if fix:
            sys.settrace(None)
            sys.setprofile(None)
    return found


def _torch_wrapper(now, original) -> bool:
    """Whether ``now`` is one of torch's own replacements of ``original``, which call it unchanged:

    * ``torch._disable_dynamo``'s wrapper (around ``torch.manual_seed`` when ``torch._dynamo`` is
      first imported), recognised by the wrapper's code object and ``__wrapped__``;
    * ``torch._dynamo.mutation_guard``'s ``patched_init`` and ``patched_setstate``, which replace
      ``torch.nn.Module.__init__`` and ``__setstate__`` for the rest of the process the first time
      anything is traced by dynamo (``torch.onnx.export(dynamo=True)``, ``torch.compile``):
      recognised by their code objects, the module's own globals and the original in their
      closure, so a look-alike with other globals or another closure is still reported. (The
      module is looked up when needed, not imported at arm time, which would cost each kernel
      1.4 s: a fake module planted in ``sys.modules`` to pass for torch's is code written to
      defeat the guard, within the limits the module docstring states.)"""
    if original is _MISSING or not isinstance(now, types.FunctionType):
        return False
    if now.__code__ is _snapshot["dynamo_code"] is not None and getattr(now, "__wrapped__", None) is original:
        return True
    guard = sys.modules.get("torch._dynamo.mutation_guard")
    install = getattr(guard, "install_generation_tagging_init", None)
    if not isinstance(install, types.FunctionType):
        return False
    return (any(now.__code__ is const for const in install.__code__.co_consts)
            and now.__globals__ is vars(guard) and now.__closure__ is not None
            and len(now.__closure__) == 1 and now.__closure__[0].cell_contents is original)


def _set_attribute(klass: type, key: str, value) -> None:
    """Put ``value`` back as ``klass.key`` (remove ``key`` when it was not there)."""
    try:
        if value is _MISSING:
            delattr(klass, key)
        else:
            setattr(klass, key, value)
    except (TypeError, AttributeError):  # an immutable built-in type: it cannot have changed
        pass


def report(token: str, namespace: dict, stage: str) -> None:
    """Check, repair, and write ``TOKEN:stage:ok:`` or ``TOKEN:stage:tampered:<what>``."""
    if not _snapshot:
        line = f"{token}:{stage}:tampered:the grader's guard was not armed\n"
    else:
        found = _find_problems(namespace, fix=True)
        if found and _find_problems(namespace, fix=False):
            found.append("(could not restore everything)")
        detail = "; ".join(dict.fromkeys(found))[:2000].replace("\n", " ")
        line = f"{token}:{stage}:{'tampered' if found else 'ok'}:{detail}\n"
    write, flush = (_snapshot["write"], _snapshot["flush"]) if _snapshot else (sys.stdout.write, sys.stdout.flush)
    write("\n" + line)
    flush()

