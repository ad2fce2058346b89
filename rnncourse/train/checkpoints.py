"""Training checkpoints: weights, optimizer, scheduler, scaler, history and random states in one
file, written atomically, read back with ``weights_only=True``."""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from rnncourse.runtime.files import atomic_path

if TYPE_CHECKING:
    from rnncourse.train.history import History

__all__ = ["load_checkpoint", "save_checkpoint"]


def _unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return model.module if isinstance(model, DistributedDataParallel) else model


def _rng_state() -> dict:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"python": random.getstate(), "numpy": (kind, keys.tolist(), pos, has_gauss, gauss),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if torch.backends.mps.is_available():
        state["mps"] = torch.mps.get_rng_state()
    return state


def _set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if "mps" in state and torch.backends.mps.is_available():
        torch.mps.set_rng_state(state["mps"])


def save_checkpoint(path: str | os.PathLike, model: torch.nn.Module, *, optimizer=None, scheduler=None,
                    scaler=None, epoch: int | None = None, history: History | None = None, **extra: Any) -> None:
    """Write the model's weights, the training state (optimizer, scheduler, scaler: whichever
    are given), ``epoch``, ``history``, the random generators' states and any ``extra`` plain values
    (a vocabulary, a version) to ``path``, atomically: a crash mid-write leaves the old file whole."""
    state = {"model": _unwrap(model).state_dict(), "epoch": epoch, "rng": _rng_state(), **extra}
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler), ("scaler", scaler)):
        if obj is not None:
            state[name] = obj.state_dict()
    if history is not None:
        state["history"] = history.as_dict()
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike, model: torch.nn.Module | None = None, *, optimizer=None,
                    scheduler=None, scaler=None, restore_rng: bool = False, map_location="cpu") -> dict:
    """Load a :func:`save_checkpoint` file into whichever of ``model``, ``optimizer``, ``scheduler``
    and ``scaler`` are given (and the random generators if ``restore_rng``); return its contents.
    Only tensors and plain Python values are unpickled (``weights_only=True``), which stops the
    ordinary pickle attack; it is a restricted parser, not a sandbox (chapter 8 says what it does
    not cover): load checkpoints you or your team wrote."""
    state = torch.load(path, map_location=map_location, weights_only=True)
    if model is not None:
        _unwrap(model).load_state_dict(state["model"])
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler), ("scaler", scaler)):
        if obj is not None and name in state:
            obj.load_state_dict(state[name])
    if restore_rng:
        _set_rng_state(state["rng"])
    return state
