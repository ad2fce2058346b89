"""Comparison helpers for exercise tests, with failure messages in the learner's terms.

Every check raises ``AssertionError`` with a sentence that says what was expected, what was
found and, where given, a hint, never a bare assertion::

    check_shape(h_n, (num_layers * 2, batch, hidden), "h_n")
    check_close(my_out, torch_out, "output of your cell", atol=1e-6)

Tensors and NumPy arrays are accepted interchangeably. Tolerances follow ``numpy.allclose``:
``|actual - expected| <= atol + rtol * |expected|`` element-wise.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

__all__ = [
    "check_close",
    "check_equal",
    "check_shape",
    "check_type",
    "numeric_gradient",
    "rel_error",
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
) -> None:
    """Fail unless ``actual`` matches ``expected`` in shape and, element-wise, within tolerance.

    The message names the worst element, its two values and how far apart they are.
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
