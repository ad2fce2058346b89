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

``forbid`` takes dotted names of functions, classes (refused when built or run), methods,
``torch.ops.aten`` operators, or whole modules (``"torch"``: any call into it, for NumPy-only
answers); :mod:`rnncourse.grading.refusals` says how they are recognised and where that stops.
``substitute`` swaps the learner's earlier answers for reference versions during the call, so
that one mistake costs one exercise. The refusals are only in place during the call and are
undone before the grader's guard checks the test cell; ``run_learner`` itself is one of the
names the guard protects. :func:`recorded_renames` lets a test observe how a file was written.
"""

from __future__ import annotations

import linecache
import os
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from rnncourse.grading.refusals import RefusedRoute, Refusals, own_code

_MISSING = object()

__all__ = [
    "check_close",
    "check_equal",
    "check_shape",
    "check_type",
    "numeric_gradient",
    "recorded_renames",
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
        raise AssertionError(_with_hint(f"{name} is None, where a shape {tuple(expected)} was expected.", hint))
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
        shape = tuple(np.shape(_to_numpy(expected)))
        raise AssertionError(_with_hint(f"{name} is None, where values of shape {shape} were expected.", hint))
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

def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error: BaseException, fn: Callable) -> str:
    """``Type: message``, plus the line of the learner's function where it was raised."""
    text = f"{type(error).__name__}: {error}".rstrip(": ") if str(error) else type(error).__name__
    code = own_code(fn)
    where = ""
    for frame, line in traceback.walk_tb(error.__traceback__):
        if code is not None and frame.f_code.co_filename == code.co_filename:
            source = linecache.getline(frame.f_code.co_filename, line, frame.f_globals).strip()
            where = f" (at line {line}" + (f": {source})" if source else ")")
    return text + where


def _module_globals(fn: Callable) -> dict:
    """The namespace ``fn``'s global names are looked up in (the notebook's, for an answer)."""
    found = getattr(getattr(fn, "__func__", fn), "__globals__", None)
    return found if found is not None else vars(sys.modules[getattr(fn, "__module__", "__main__")])


@contextmanager
def _substituted(fn: Callable, substitute: Mapping[str, Any]) -> Iterator[None]:
    """Swap names in ``fn``'s module (the notebook) for reference versions during the call."""
    swapped: list[tuple[str, Any]] = []
    module_globals = _module_globals(fn) if substitute else {}
    try:
        for key, value in substitute.items():
            swapped.append((key, module_globals.get(key, _MISSING)))
            module_globals[key] = value
        yield
    finally:
        for key, original in reversed(swapped):
            if original is _MISSING:
                module_globals.pop(key, None)
            else:
                module_globals[key] = original


def _torch_state() -> tuple[Any, ...] | None:
    """The process-wide settings an answer may change for its caller: grad mode, default dtype."""
    torch = sys.modules.get("torch")
    return None if torch is None else (torch.is_grad_enabled(), torch.get_default_dtype())


def _changed_state(before: tuple[Any, ...] | None) -> str | None:
    """What the answer left changed for the code that calls it (put back here), or None."""
    after = _torch_state()
    if before is None or after is None or after == before:
        return None
    torch = sys.modules["torch"]
    torch.set_grad_enabled(before[0])
    torch.set_default_dtype(before[1])
    if after[0] != before[0]:
        return (f"left gradient tracking switched {'on' if after[0] else 'off'} for the code that calls it "
                f"(torch.set_grad_enabled); use a `with torch.no_grad():` block inside your function, "
                f"which puts the mode back when it ends")
    return (f"changed the default dtype to {after[1]} for the code that calls it (torch.set_default_dtype); "
            f"ask for a dtype where you create a tensor instead")


def _call(fn: Callable, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[Any, BaseException | None]:
    try:
        return fn(*args, **kwargs), None
    except BaseException as caught:  # noqa: BLE001 - every failure of the answer is reported
        return None, caught


def _failure(error: BaseException | None, result: Any, fn: Callable, name: str, case: str,
             raises: type[BaseException] | tuple[type[BaseException], ...] | None) -> str | None:
    """The sentence for a call that raised (or did not raise ``raises``); None when it went right."""
    expected = " or ".join(t.__name__ for t in (raises if isinstance(raises, tuple) else (raises,))) if raises else ""
    if raises is not None and error is None:
        return f"While checking {case}, your {name} should raise {expected}, but it returned {_short(result)}."
    if error is None or (raises is not None and isinstance(error, raises)):
        return None
    if isinstance(error, NotImplementedError) and not str(error):
        return f"While checking {case}, your {name} is not written yet (it raises NotImplementedError)."
    if raises is not None:
        return f"While checking {case}, your {name} should raise {expected}, but it raised {_describe(error, fn)}"
    return f"While checking {case}, your {name} raised {_describe(error, fn)}"


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
    learner: Callable | None = None,
    watch: bool = True,
) -> Any:
    """Call the learner's ``fn(*args, **kwargs)`` for the test case ``case`` and return its result.

    - If ``fn`` raises, fail with ``While checking <case>, your <fn> raised <Type>: <message>
      (at line <n>: <the learner's line>)`` and the ``hint``; the learner's exception stays
      reachable as ``__cause__``.
    - ``forbid`` maps dotted names to the reason a learner reads when their answer uses them
      (:class:`~rnncourse.grading.refusals.Refusals`): a function (``"torch.lstm_cell"``,
      ``"rnncourse.nn.padded.final_states"``, ``"torch.ops.aten._scaled_dot_product_attention_math"``)
      is refused when called, by any route; a class (``"torch.nn.LSTM"``) when constructed or run;
      a method (``"torch.Tensor.backward"``) when called; a module (``"torch"``, for NumPy-only
      answers) on any call into it. A refused route fails the check even when the answer catches
      the refusal.
    - ``substitute`` maps names in ``fn``'s module (the notebook) to the reference versions the
      call should use instead, so that a mistake in an earlier exercise does not cost this one:
      ``substitute={"rnn_step": reference_step}``. Inside a substitute the refused routes are allowed.
    - ``raises``: the call must raise this exception type; the exception is returned.
    - ``learner``: when ``fn`` is the test's own driver (``lambda: list(stream)``), the learner's
      function it runs; messages name that function and its lines.
    - ``watch=False``: refuse the ``forbid`` names only where they are looked up (their modules
      and the learner's module), without the profile function that sees every call, for an
      answer whose own work is a Python-heavy library call (an ONNX export: about 3x slower
      watched); see :mod:`rnncourse.grading.refusals`.
    - An answer that leaves gradient tracking or the default dtype changed for its caller fails,
      and the setting is put back, so that the mistake costs no later check.

    Everything is put back when the call ends, whatever happens, so the grader's guard
    (:mod:`rnncourse.grading.guard`), which compares before and after each test cell, sees nothing
    changed, while replacing ``run_learner`` itself still counts as tampering.
    """
    shown = learner if learner is not None else fn
    name = getattr(shown, "__name__", None) or type(shown).__name__  # a function, or a callable object
    before = _torch_state()
    namespace = None if watch else _module_globals(fn)
    with _substituted(fn, substitute or {}), \
            Refusals(forbid or {}, substitute or {}, watch=watch, namespace=namespace) as refusals:
        result, error = _call(fn, args, kwargs or {})
    route = refusals.route_taken()
    if route is not None:
        raise AssertionError(f"While checking {case}, your {name} used {route[0]}: {route[1]}.") from None
    if refusals.switched_off():
        raise AssertionError(f"While checking {case}, your {name} switched off the check that watches for "
                             f"routes this exercise does not allow (sys.setprofile).") from None
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        raise error
    changed = _changed_state(before)
    message = _failure(error, result, shown, name, case, raises)
    if message is not None:
        raise AssertionError(_with_hint(message, hint)) from error
    if changed is not None:
        raise AssertionError(f"While checking {case}, your {name} {changed}.")
    return error if raises is not None else result


@contextmanager
def recorded_renames() -> Iterator[list[tuple[Path, Path]]]:
    """The renames (``os.replace``, ``os.rename``, ``Path.replace``, ``shutil.move``) made in the
    block, as absolute ``(source, target)`` paths, observed through Python's audit events::

        with recorded_renames() as renames:
            run_learner(save_model_file, (path, ...), case="...")
        # an atomic write: one rename, from a temporary file beside `path`, onto `path`
    """
    found: list[tuple[Path, Path]] = []
    _RENAME_LOGS.append(found)
    try:
        yield found
    finally:
        _RENAME_LOGS.remove(found)


_RENAME_LOGS: list[list[tuple[Path, Path]]] = []


def _audit(event: str, args: tuple) -> None:
    if event == "os.rename" and _RENAME_LOGS:
        pair = tuple(Path(os.path.abspath(os.fsdecode(p))) for p in args[:2] if isinstance(p, (str, bytes, os.PathLike)))
        if len(pair) == 2:
            for log in _RENAME_LOGS:
                log.append(pair)


sys.addaudithook(_audit)  # installed once, at import; it records only inside recorded_renames()
