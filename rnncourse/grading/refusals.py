"""The routes an exercise refuses, watched during one :func:`~rnncourse.grading.checks.run_learner` call.

``forbid`` maps dotted names to the reason a learner reads. Each name is refused two ways:

1. **patched**: during the call the name itself (``torch.lstm_cell``, ``nn.LSTM.forward``) raises
   :class:`RefusedRoute`, so the answer fails where it takes the route;
2. **watched**: a profile function (``sys.setprofile``) sees every Python call and every call of
   a built-in, and records a refused object reached any other way (``from torch import
   lstm_cell`` before the call, ``torch._VF.lstm_cell``, a stored ``f.__wrapped__``).

A refused function is recognised by what no other function shares: its own code object, found
beneath its decorators through ``__wrapped__`` (``@torch.no_grad()`` wraps every function in the
same ``decorate_context`` code, so that code says nothing about which function runs). A built-in
is recognised by its own object, and also through the operator of the same name in
``torch.ops.aten`` (``torch.ops.aten.lstm_cell``), whose overloads each run their own built-in.
A module (``"torch"``, for NumPy-only answers) refuses every call into it, except the frames that
only switch gradient tracking on or off (``@torch.no_grad()`` on a NumPy function computes
nothing with torch).

``watch=False`` leaves the profile function out, for an answer whose allowed work is itself
millions of Python calls (an ONNX export traces the model in Python: measured on torch 2.13, the
watch made an export about 3x slower, too slow for a test cell). The refused names are then
patched where they are looked up, in their modules and in the learner's namespace (a name the
notebook bound with ``from ... import``), and a reference stored anywhere else escapes.

Limits, stated:

- the watch covers the calling thread; work handed to another thread or process is not seen;
- a refused Python function (``F.cross_entropy``) is recognised by its code, not by the kernels
  it calls: a kernel reached directly (``torch._C._nn.cross_entropy_loss``,
  ``torch.ops.aten._scaled_dot_product_attention_math``) is refused only when the exercise
  names it too, and the ``torch.ops.aten`` alias is found by name for built-ins only;
- code that reaches a kernel without a Python-level call (TorchScript, ``torch.compile``d
  graphs, a C extension) can escape it;
- replacing the profile function fails the check, and patching this module is the grader's
  guard's to report; anything written to defeat both is for hidden tests and review.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import types
from typing import Any, Callable, Mapping

# bound at import, before any answer runs, so that replacing ``sys.setprofile`` cannot blind the
# watch (the grader's guard reports a replaced name of the checking modules)
_setprofile, _getprofile = sys.setprofile, sys.getprofile
_import_module = importlib.import_module

__all__ = ["RefusedRoute", "Refusals"]

_MISSING_ATTR = object()
# modules whose frames only enter or leave a gradient mode; never a refused computation
_GRAD_MODE_MODULES = ("torch.autograd.grad_mode", "torch.utils._contextlib")


class RefusedRoute(Exception):
    """Raised inside a :func:`run_learner` call when the answer takes a route the exercise forbids."""


def resolve(dotted: str) -> tuple[Any, Any, str]:
    """``(owner, target, attribute)`` for a dotted name; ``owner`` is None for a module."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = _import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        if cut == len(parts) and type(target).__name__ == "_OpNamespace":
            return None, target, ""  # torch.ops.aten itself is importable but is not a module
        owner, attribute = None, ""
        for part in parts[cut:]:
            if not hasattr(target, part):
                raise ValueError(f"forbid names {dotted!r}, but {part!r} does not exist there")
            owner, attribute, target = target, part, getattr(target, part)
        return owner, target, attribute
    raise ValueError(f"forbid names {dotted!r}, which is not an importable module or attribute")


def own_code(function: Any) -> Any:
    """The code object only ``function`` runs (beneath its decorators), or None for a built-in."""
    inner = inspect.unwrap(getattr(function, "__func__", function))
    return getattr(getattr(inner, "__func__", inner), "__code__", None)


def _operator_kernels(target: Any) -> list[Any]:
    """The built-ins an operator of ``torch.ops`` runs (the packet's and each overload's)."""
    kind = type(target).__name__
    if kind == "OpOverload":
        return [target._op]
    if kind == "OpOverloadPacket":
        return [target._op] + [getattr(target, name)._op for name in target.overloads()]
    return []


def watched_objects(target: Any) -> list[Any]:
    """What identifies ``target`` when it runs: its own code, or its built-ins (with aten's)."""
    code = own_code(target)
    if code is not None:
        return [code]
    kernels = _operator_kernels(target)
    if kernels:
        return kernels
    inner = inspect.unwrap(target)
    found = [inner]
    aten = getattr(sys.modules.get("torch"), "ops", None)
    name = getattr(inner, "__name__", None)
    if isinstance(inner, types.BuiltinFunctionType) and aten is not None and name:
        try:
            found += _operator_kernels(getattr(aten.aten, name))
        except (AttributeError, RuntimeError):
            pass
    return found


def _switches_grad_mode(frame: Any, event: str) -> bool:
    """Whether this event is part of entering or leaving a gradient mode (never a computation):
    a frame of those modules, its built-ins, and the functions they call directly."""
    caller = frame.f_back if event == "call" else None
    return (frame.f_globals.get("__name__") in _GRAD_MODE_MODULES
            or (caller is not None and caller.f_globals.get("__name__") in _GRAD_MODE_MODULES
                and frame.f_globals.get("__name__", "").startswith("torch")))


def _in_namespace(name: Any, prefixes: tuple[str, ...]) -> str | None:
    if isinstance(name, str):
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                return prefix
    return None


def _put(owner: Any, attribute: str, value: Any) -> None:
    """``owner.attribute = value`` (an item for a namespace dict); remove it for ``_MISSING_ATTR``."""
    if isinstance(owner, dict):
        if value is _MISSING_ATTR:
            owner.pop(attribute, None)
        else:
            owner[attribute] = value
    elif value is _MISSING_ATTR:
        try:
            delattr(owner, attribute)
        except AttributeError:
            pass
    else:
        setattr(owner, attribute, value)


class Refusals:
    """The refusals of one call: ``with Refusals(forbid, exempt) as watch: fn(...)``, then
    :meth:`route_taken` (the refused route used, if any) and :attr:`still_ours` (whether the
    profile function was still in place at the end).

    ``exempt`` are the reference substitutes of the call: checking code, inside which the
    refused routes are allowed.
    """

    def __init__(self, forbid: Mapping[str, str], exempt: Mapping[str, Any] = {}, *, watch: bool = True,
                 namespace: dict | None = None) -> None:
        self.touched: list[tuple[str, str]] = []   # (dotted name, reason) of every refused route used
        self.exempt_frames: list[Any] = []         # frames of the reference substitutes now running
        self.exempt_codes = {id(c) for c in map(own_code, exempt.values()) if c is not None}
        self.patches: list[tuple[Any, str, Any, str, str]] = []  # (owner, attribute, original, dotted, reason)
        self.watched: dict[int, tuple[str, str]] = {}  # id of a code object or built-in -> (name, reason)
        self.keep_alive: list[Any] = []             # the watched objects, so that their ids stay theirs
        self.namespaces: dict[str, str] = {}        # module prefix -> reason
        for dotted, reason in forbid.items():
            self._add(dotted, reason)
        if namespace is not None:                   # the learner's own names for refused functions
            self._add_names(namespace)
        self.prefixes = tuple(self.namespaces)
        self.active = watch and bool(self.watched or self.prefixes or self.exempt_codes)
        self.still_ours = True

    def _add(self, dotted: str, reason: str) -> None:
        owner, target, attribute = resolve(dotted)
        if owner is None:  # a module: every call into it
            self.namespaces[target.__name__] = reason
        elif isinstance(target, type):  # a class: built or run
            for method in ("__init__", "forward"):
                if hasattr(target, method):
                    self.patches.append((target, method, vars(target).get(method, _MISSING_ATTR), dotted, reason))
                    if method in vars(target):
                        self._watch(vars(target)[method], dotted, reason)
        else:
            if isinstance(owner, (type, types.ModuleType)):
                self.patches.append((owner, attribute, vars(owner).get(attribute, _MISSING_ATTR), dotted, reason))
            self._watch(target, dotted, reason)

    def _add_names(self, namespace: dict) -> None:
        """Patch every name of ``namespace`` bound to a refused function, as its module is."""
        refused = {id(original): (dotted, reason) for owner, attribute, original, dotted, reason
                   in self.patches if original is not _MISSING_ATTR and not isinstance(owner, type)}
        for key, value in list(namespace.items()):
            hit = refused.get(id(value))
            if hit is not None:
                self.patches.append((namespace, key, value, *hit))

    def _watch(self, target: Any, dotted: str, reason: str) -> None:
        for obj in watched_objects(target):
            self.watched[id(obj)] = (dotted, reason)
            self.keep_alive.append(obj)

    def _refuse(self, dotted: str, reason: str, original: Any) -> Callable:
        def refused(*a: Any, **k: Any) -> Any:
            if self.exempt_frames:  # a reference substitute may use what the answer may not
                return original(*a, **k)
            self.touched.append((dotted, reason))
            raise RefusedRoute(f"{dotted} is not allowed here: {reason}")
        return refused

    def _namespace_hit(self, *names: Any) -> tuple[str, str] | None:
        for name in names:
            prefix = _in_namespace(name, self.prefixes)
            if prefix:
                return prefix, self.namespaces[prefix]
        return None

    def monitor(self, frame: Any, event: str, arg: Any) -> None:
        """The profile function: record every refused object the answer reaches."""
        exempt = self.exempt_frames
        if event == "return" and exempt and frame is exempt[-1]:
            exempt.pop()
            return
        if event == "call" and id(frame.f_code) in self.exempt_codes:
            exempt.append(frame)
            return
        if exempt or event not in ("call", "c_call"):
            return
        hit = self.watched.get(id(frame.f_code if event == "call" else arg))
        if hit is None and self.prefixes and not self.touched and not _switches_grad_mode(frame, event):
            if event == "call":
                hit = self._namespace_hit(frame.f_globals.get("__name__"))
            else:
                owner = getattr(arg, "__objclass__", None) or type(getattr(arg, "__self__", None))
                hit = self._namespace_hit(getattr(arg, "__module__", None), getattr(owner, "__module__", None))
        if hit is not None and len(self.touched) < 100:
            self.touched.append(hit)

    def __enter__(self) -> "Refusals":
        self.previous = _getprofile()
        for owner, attribute, _, dotted, reason in self.patches:
            now = owner[attribute] if isinstance(owner, dict) else getattr(owner, attribute)
            _put(owner, attribute, self._refuse(dotted, reason, now))
        if self.active:
            _setprofile(self.monitor)
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            if self.active:
                self.still_ours = _getprofile() == self.monitor
                _setprofile(self.previous)
        finally:
            for owner, attribute, original, _, _ in reversed(self.patches):
                _put(owner, attribute, original)

    def route_taken(self) -> tuple[str, str] | None:
        """The most specific refused route used: a named function or class before a whole module."""
        if not self.touched:
            return None
        return next((t for t in self.touched if t[0] not in self.namespaces), self.touched[0])

    def switched_off(self) -> bool:
        """Whether the answer replaced the profile function while routes were refused."""
        return bool(self.watched or self.prefixes) and not self.still_ours
