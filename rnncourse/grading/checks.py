"""Comparison helpers for exercise tests, with failure messages in the learner's terms.

Every check raises ``AssertionError`` with a sentence that says what was expected, what was
found and, where given, a hint, never a bare assertion::

    check_shape(h_n, (num_layers * 2, batch, hidden), "h_n")
    check_close(my_out, torch_out, "output of your cell", atol=1e-6)

Tensors and NumPy arrays are accepted interchangeably. Tolerances follow ``numpy.allclose``:
``|actual - expected| <= atol + rtol * |expected|`` element-wise.

Every call of the learner's code goes through :func:`run_learner`, which names the case being
checked when the answer raises, adds the hint, and refuses the routes the exercise forbids::

    h_t = run_learner(lstm_step, (x, (h, c), W_ih, W_hh, b_ih, b_hh), case="batch 4, hidden 5",
                      hint="the gates come in the order input, forget, cell, output",
                      forbid={"torch.lstm_cell": "this exercise asks you to write the gates "
                              "yourself; torch.lstm_cell computes them for you",
                              "torch.nn.LSTMCell": "build the step by hand, not with the module"})
    grads = run_learner(rnn_backward, (...), case="...", forbid={"torch": "NumPy only here"})
    out = run_learner(run_sequence, (...), case="...", substitute={"rnn_step": reference_step})

``check_close(..., mistakes={"bias_hh left out": without_bias_hh})`` names the common mistake an
answer matches, so the hint fits the failure.

``forbid`` takes dotted names of functions, classes (refused when built or run), methods, or
whole modules (``"torch"``: any call into it, for NumPy-only answers). ``substitute`` swaps the
learner's earlier answers for reference versions during the call, so that one mistake costs one
exercise. The refusals are only in place during the call and are undone before the grader's
guard checks the test cell; ``run_learner`` itself is one of the names the guard protects.
Limits: the watch covers the calling thread, and routes through ``torch.ops.aten`` or
``torch._C`` internals by another object are not recognised; hidden tests and review remain.
"""

from __future__ import annotations

import importlib
import linecache
import sys
import traceback
import types
from typing import Any, Callable, Mapping, Sequence

import numpy as np

# bound at import, before any answer runs, so that replacing ``sys.setprofile`` cannot blind
# :func:`run_learner` (the grader's guard reports a replaced ``rnncourse.grading.checks`` name)
_setprofile, _getprofile = sys.setprofile, sys.getprofile
_import_module = importlib.import_module

__all__ = [
    "check_close",
    "check_equal",
    "check_shape",
    "check_type",
    "numeric_gradient",
    "rel_error",
    "run_learner",
    "RefusedRoute",
]


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch.Tensor without importing torch here
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()
    return np.asarray(x)


def _with_hint(message: str, hint: str | None) -> str:
    return f"{message}\nHint: {hint}" if hint else message


def check_type(value: Any, expected: type | tuple[type, ...], name: str, hint: str | None = None) -> None:
    """Fail unless ``value`` is an instance of ``expected``."""
    if not isinstance(value, expected):
        names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
        raise AssertionError(_with_hint(f"{name} should be a {names}, but it is a {type(value).__name__}.", hint))


def check_shape(value: Any, expected: Sequence[int], name: str, hint: str | None = None) -> None:
    """Fail unless ``value`` (tensor or array) has exactly the shape ``expected``."""
    if value is None:
        raise AssertionError(_with_hint(f"{name} is None; did you forget to return it?", hint))
    got = tuple(getattr(value, "shape", np.shape(value)))
    want = tuple(int(d) for d in expected)
    if got != want:
        raise AssertionError(_with_hint(f"{name} should have shape {want}, but it has shape {got}.", hint))


def rel_error(actual: Any, expected: Any) -> float:
    """Largest element-wise relative error ``|a - e| / max(1e-8, |a| + |e|)`` (as in CS231n)."""
    a, e = _to_numpy(actual).astype(np.float64), _to_numpy(expected).astype(np.float64)
    return float(np.max(np.abs(a - e) / np.maximum(1e-8, np.abs(a) + np.abs(e)))) if a.size else 0.0


def check_close(
    actual: Any,
    expected: Any,
    name: str,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    hint: str | None = None,
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    """Fail unless ``actual`` matches ``expected`` in shape and, element-wise, within tolerance.

    The message names the worst element, its two values and how far apart they are.
    ``mistakes`` maps a description of a common mistake to the result it gives
    (``{"the bias b_hh left out": reference_without_b_hh}``); when ``actual`` matches one of them
    the message names that mistake instead of the general ``hint``, so the hint fits the failure.
    """
    if actual is None:
        raise AssertionError(_with_hint(f"{name} is None; did you forget to return it?", hint))
    a, e = _to_numpy(actual), _to_numpy(expected)
    check_shape(a, e.shape, name, hint)
    if not np.issubdtype(a.dtype, np.number) and a.dtype != np.bool_:
        raise AssertionError(_with_hint(f"{name} should hold numbers, but it holds {a.dtype}.", hint))
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    if np.isnan(a64).any() and not np.isnan(e64).any():
        raise AssertionError(_with_hint(f"{name} contains NaN values where numbers were expected.", hint))
    bad = ~np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=True)
    if bad.any() and mistakes:
        hint = _matching_mistake(a64, mistakes, rtol, atol) or hint
    if bad.any():
        diff = np.where(bad, np.abs(a64 - e64), -np.inf)
        idx = np.unravel_index(int(np.argmax(diff)), a64.shape) if a64.ndim else ()
        where = f" at index {tuple(int(i) for i in idx)}" if a64.ndim else ""
        raise AssertionError(
            _with_hint(
                f"{name} does not match the expected values: {int(bad.sum())} of {bad.size} elements differ"
                f" by more than atol={atol:g} + rtol={rtol:g}·|expected|. Worst{where}: got {a64[idx]:.6g},"
                f" expected {e64[idx]:.6g} (difference {abs(a64[idx] - e64[idx]):.3g}).",
                hint,
            )
        )


def _matching_mistake(actual: np.ndarray, mistakes: Mapping[str, Any], rtol: float, atol: float) -> str | None:
    for description, result in mistakes.items():
        m = _to_numpy(result).astype(np.float64)
        if m.shape == actual.shape and np.allclose(actual, m, rtol=max(rtol, 1e-6), atol=max(atol, 1e-8)):
            return f"your result is what you get with {description}."
    return None


def check_equal(actual: Any, expected: Any, name: str, hint: str | None = None) -> None:
    """Fail unless ``actual == expected`` (for ints, strings, tuples, shapes, lists)."""
    if isinstance(actual, np.ndarray) or hasattr(actual, "detach"):
        a, e = _to_numpy(actual), _to_numpy(expected)
        same = a.shape == e.shape and bool(np.all(a == e))
    else:
        same = actual == expected
    if not same:
        raise AssertionError(_with_hint(f"{name} should be {expected!r}, but it is {actual!r}.", hint))


def numeric_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f`` at ``x`` (``x`` is restored).

    ``df/dx_i ≈ (f(x + h e_i) - f(x - h e_i)) / 2h``; use float64 inputs.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
        it.iternext()
    return grad


# --- calling the learner's function ----------------------------------------------------------

class RefusedRoute(Exception):
    """Raised inside a :func:`run_learner` call when the answer takes a route the exercise forbids."""


_MISSING_ATTR = object()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _resolve(dotted: str) -> tuple[Any, Any, str]:
    """``(owner, target, attribute)`` for a dotted name; ``owner`` is None for a module."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = _import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        owner, attribute = None, ""
        for part in parts[cut:]:
            if not hasattr(target, part):
                raise ValueError(f"forbid names {dotted!r}, but {part!r} does not exist there")
            owner, attribute, target = target, part, getattr(target, part)
        return owner, target, attribute
    raise ValueError(f"forbid names {dotted!r}, which is not an importable module or attribute")


def _in_namespace(name: Any, prefixes: tuple[str, ...]) -> str | None:
    if isinstance(name, str):
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                return prefix
    return None


def _describe(error: BaseException, fn: Callable) -> str:
    """``Type: message``, plus the line of the learner's function where it was raised."""
    text = f"{type(error).__name__}: {error}".rstrip(": ") if str(error) else type(error).__name__
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    where = ""
    for frame, line in traceback.walk_tb(error.__traceback__):
        if code is not None and frame.f_code.co_filename == code.co_filename:
            source = linecache.getline(frame.f_code.co_filename, line, frame.f_globals).strip()
            where = f" (at line {line}" + (f": {source})" if source else ")")
    return text + where


def run_learner(
    fn: Callable,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    case: str,
    hint: str | None = None,
    forbid: Mapping[str, str] | None = None,
    substitute: Mapping[str, Any] | None = None,
    raises: type[BaseException] | tuple[type[BaseException], ...] | None = None,
) -> Any:
    """Call the learner's ``fn(*args, **kwargs)`` for the test case ``case`` and return its result.

    - If ``fn`` raises, fail with ``While checking <case>, your <fn> raised <Type>: <message>``
      and the ``hint``; the learner's exception stays reachable as ``__cause__``.
    - ``forbid`` maps dotted names to the reason a learner reads when their answer uses them:
      a function (``"torch.lstm_cell"``, ``"torch.autograd.grad"``,
      ``"rnncourse.nn.padded.final_states"``) is refused when called; a class (``"torch.nn.LSTM"``)
      when constructed or run (its ``__init__`` and ``forward``); a method
      (``"torch.Tensor.backward"``) when called; a module (``"torch"``, for NumPy-only answers)
      on any call into it, tensor methods included. During the call these names raise
      :class:`RefusedRoute` with the reason, and a profiler watches for the same objects reached
      another way (``from torch import lstm_cell`` before the call, ``torch._VF.lstm_cell``). A
      refused route fails the check even when the answer catches the refusal.
    - ``substitute`` maps names in ``fn``'s module (the notebook) to the reference versions the
      call should use instead, so that a mistake in an earlier exercise does not cost this one
      (no cascade): ``substitute={"rnn_step": reference_step}``. A substitute (a Python
      function) is checking code: inside it the forbidden routes are allowed.
    - ``raises``: the call must raise this exception type; the exception is returned.

    Everything is put back when the call ends, whatever happens. The patching happens only
    inside this call, so the grader's guard (:mod:`rnncourse.grading.guard`), which compares
    before and after each test cell, sees nothing changed, while replacing ``run_learner``
    itself still counts as tampering.
    """
    name = getattr(fn, "__name__", None) or type(fn).__name__  # a function, or a module / callable object
    touched: list[tuple[str, str]] = []  # (dotted name, reason) of every refused route used

    exempt: list[Any] = []  # frames of the reference substitutes now running (checking code)
    exempt_codes = {id(getattr(getattr(v, "__func__", v), "__code__", None)) for v in (substitute or {}).values()}
    exempt_codes.discard(id(None))

    def refuse(dotted: str, reason: str, original: Any) -> Callable:
        def refused(*a: Any, **k: Any) -> Any:
            if exempt:  # a reference substitute may use what the answer may not
                return original(*a, **k)
            touched.append((dotted, reason))
            raise RefusedRoute(f"{dotted} is not allowed here: {reason}")
        return refused

    patches: list[tuple[Any, str, Any, str, str]] = []  # (owner, attribute, original, dotted, reason)
    watched: dict[int, tuple[str, str]] = {}   # id of code objects / builtins -> (name, reason)
    keep_alive: list[Any] = []
    namespaces: dict[str, str] = {}            # module prefix -> reason
    for dotted, reason in (forbid or {}).items():
        owner, target, attribute = _resolve(dotted)
        if owner is None:  # a module: every call into it
            namespaces[target.__name__] = reason
            continue
        if isinstance(target, type):
            methods = [m for m in ("__init__", "forward") if hasattr(target, m)]
            for method in methods:
                patches.append((target, method, vars(target).get(method, _MISSING_ATTR), dotted, reason))
                original = getattr(target, method)
                code = getattr(original, "__code__", None)
                if code is not None and method in vars(target):
                    watched[id(code)] = (dotted, reason)
                    keep_alive.append(code)
            continue
        if isinstance(owner, (type, types.ModuleType)):
            patches.append((owner, attribute, vars(owner).get(attribute, _MISSING_ATTR), dotted, reason))
        function = getattr(target, "__func__", target)
        code = getattr(function, "__code__", None)
        watched[id(code if code is not None else function)] = (dotted, reason)
        keep_alive.append(code if code is not None else function)
    prefixes = tuple(namespaces)

    def monitor(frame: Any, event: str, arg: Any) -> None:
        if event == "return" and exempt and frame is exempt[-1]:
            exempt.pop()
            return
        if event == "call" and id(frame.f_code) in exempt_codes:
            exempt.append(frame)
            return
        if exempt:
            return
        if event == "call":
            hit = watched.get(id(frame.f_code))
            if hit is None and prefixes and not touched:
                prefix = _in_namespace(frame.f_globals.get("__name__"), prefixes)
                hit = (prefix, namespaces[prefix]) if prefix else None
        elif event == "c_call":
            hit = watched.get(id(arg))
            if hit is None and prefixes and not touched:
                owner = getattr(arg, "__objclass__", None) or type(getattr(arg, "__self__", None))
                prefix = (_in_namespace(getattr(arg, "__module__", None), prefixes)
                          or _in_namespace(getattr(owner, "__module__", None), prefixes))
                hit = (prefix, namespaces[prefix]) if prefix else None
        else:
            return
        if hit is not None and len(touched) < 100:
            touched.append(hit)

    module_globals = None
    swapped: list[tuple[str, Any]] = []
    if substitute:
        function = getattr(fn, "__func__", fn)
        module_globals = getattr(function, "__globals__", None)
        if module_globals is None:
            module_globals = vars(sys.modules[getattr(fn, "__module__", "__main__")])
    previous = _getprofile()
    result, error = None, None
    try:
        for owner, attribute, _, dotted, reason in patches:
            setattr(owner, attribute, refuse(dotted, reason, getattr(owner, attribute)))
        for key, value in (substitute or {}).items():
            swapped.append((key, module_globals.get(key, _MISSING_ATTR)))
            module_globals[key] = value
        if watched or prefixes or exempt_codes:
            _setprofile(monitor)
        try:
            result = fn(*args, **(kwargs or {}))
        except BaseException as caught:  # noqa: BLE001 - every failure of the answer is reported
            error = caught
        finally:
            still_ours = _getprofile() is monitor
            if watched or prefixes or exempt_codes:
                _setprofile(previous)
    finally:
        for owner, attribute, original, _, _ in reversed(patches):
            if original is _MISSING_ATTR:
                try:
                    delattr(owner, attribute)
                except AttributeError:
                    pass
            else:
                setattr(owner, attribute, original)
        for key, original in reversed(swapped):
            if original is _MISSING_ATTR:
                module_globals.pop(key, None)
            else:
                module_globals[key] = original
    if touched:  # the most specific route taken: a named function or class before a whole module
        dotted, reason = next((t for t in touched if t[0] not in namespaces), touched[0])
        raise AssertionError(f"While checking {case}, your {name} used {dotted}: {reason}.") from None
    if (watched or prefixes) and not still_ours:
        raise AssertionError(f"While checking {case}, your {name} switched off the check that watches for "
                             f"routes this exercise does not allow (sys.setprofile).") from None
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        raise error
    if raises is not None:
        expected = " or ".join(t.__name__ for t in (raises if isinstance(raises, tuple) else (raises,)))
        if error is None:
            raise AssertionError(_with_hint(f"While checking {case}, your {name} should raise {expected}, "
                                            f"but it returned {_short(result)}.", hint))
        if isinstance(error, raises):
            return error
    if error is not None:
        if isinstance(error, NotImplementedError) and not str(error):
            message = f"While checking {case}, your {name} is not written yet (it raises NotImplementedError)."
        elif raises is not None:
            message = f"While checking {case}, your {name} should raise {expected}, but it raised {_describe(error, fn)}"
        else:
            message = f"While checking {case}, your {name} raised {_describe(error, fn)}"
        raise AssertionError(_with_hint(message, hint)) from error
    return result
