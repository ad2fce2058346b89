"""The checks :mod:`rnncourse.deploy.checkpoint` runs on a model file, each raising
``CheckpointError`` with one line that says what is wrong.

- :func:`check_plain_json`: metadata and configuration hold only JSON values (``dict`` with string
  keys, ``list``, ``str``, ``int``, finite ``float``, ``bool``, ``None``), so ``/health`` can always
  answer them; the offending key is named (``metadata["trained"]["date"]``).
- :func:`weights_digest`: SHA-256 over the weights' names, dtypes, shapes and bytes, in name order;
  stored at save, compared at load, so a file changed after it was written is refused.
- :func:`check_zip`: the CRC-32 that ``torch.save``'s zip container keeps for each record; a
  flipped byte anywhere in the file fails it before anything is unpickled.
- :func:`build_on_meta`: the model built on the ``meta`` device (shapes without memory), so a
  configuration asking for a petabyte, or naming an unknown cell, is refused before any allocation.
- :func:`one_line`: an exception as one short line (no ANSI colours, no traceback).
"""

from __future__ import annotations

import hashlib
import math
import re
import zipfile
from pathlib import Path

import torch
from torch import nn

__all__ = ["CheckpointError", "check_plain_json", "weights_digest", "check_zip", "build_on_meta",
           "check_state", "one_line"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message says why, in the user's terms."""


def one_line(error: BaseException, limit: int = 300) -> str:
    """``Type: message`` as one line: colours removed, whitespace collapsed, at most ``limit`` chars."""
    text = " ".join(_ANSI.sub("", str(error)).split())
    text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_plain_json(value, where: str) -> None:
    """Raise CheckpointError unless ``value`` is plain JSON (finite numbers), naming where it is not."""
    if value is None or type(value) in (bool, str, int):     # exact types: numpy's float64 is a float
        return
    if type(value) is float:
        if not math.isfinite(value):
            raise CheckpointError(f"{where} is {value}: JSON has no NaN or infinity; store a number or None.")
        return
    if type(value) is dict:
        for key, item in value.items():
            if not isinstance(key, str):
                raise CheckpointError(f"{where} has the key {key!r} ({type(key).__name__}); JSON keys are strings.")
            check_plain_json(item, f"{where}[{key!r}]")
        return
    if type(value) is list:
        for i, item in enumerate(value):
            check_plain_json(item, f"{where}[{i}]")
        return
    raise CheckpointError(f"{where} is a {type(value).__module__}.{type(value).__qualname__}, not a plain "
                          "JSON value (str, int, float, bool, None, list, dict); convert it first, e.g. "
                          "float(x), date.isoformat() or sorted(a_set).")


def weights_digest(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 (hex) of every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def check_zip(path: Path) -> None:
    """Raise CheckpointError if a record of the file's zip container fails its CRC-32."""
    if not zipfile.is_zipfile(path):
        return                                    # not a zip at all: torch.load says what it is
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise CheckpointError(f"{path} is damaged (its zip container cannot be read: {one_line(error)}).") from None
    if bad is not None:
        raise CheckpointError(f"{path} is damaged: the record {bad} fails its checksum (CRC-32); the file "
                              "changed after it was written. Copy it again or re-save it.")


def build_on_meta(cls: type[nn.Module], config: dict, source: str) -> nn.Module:
    """``cls(**config)`` on the meta device (no memory); CheckpointError if it cannot be built."""
    try:
        with torch.device("meta"):
            return cls(**config)
    except Exception as error:              # KeyError for an unknown cell, TypeError, ValueError, ...
        raise CheckpointError(f"{source}: its configuration {str(config)[:200]} does not build a "
                              f"{cls.__name__}: {one_line(error, 200)}") from None


def check_state(state, source: str) -> None:
    """``state`` is a dict of name -> floating-point tensor with only finite values."""
    if not isinstance(state, dict) or not state:
        raise CheckpointError(f"{source} has no weights (its state_dict is "
                              f"{type(state).__name__ if state is not None else 'missing'}).")
    for name, tensor in state.items():
        if not isinstance(name, str) or not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"{source}: the weights must map names to tensors; {name!r} holds a "
                                  f"{type(tensor).__name__}.")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise CheckpointError(f"{source}: the weight {name} holds {bad} NaN or infinite value(s); "
                                  "the training diverged before it was saved. Save an earlier checkpoint.")
