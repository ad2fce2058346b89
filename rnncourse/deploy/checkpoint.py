"""A versioned checkpoint: everything needed to serve a trained model, in one file.

::

    save_model("sentiment.pt", model, kind="sentiment", config=dict(vocab_size=..., ...),
               vocab=vocab.itos, metadata={"test_accuracy": 0.87, "max_len": 200})
    loaded = load_model("sentiment.pt")            # loaded.model (eval mode), .vocab, .config, .metadata

The file is a ``torch.save`` dictionary of tensors and plain Python values only::

    {"format": "rnncourse.model", "format_version": 1, "kind": "sentiment" | "char-lm",
     "config": {constructor keyword arguments}, "vocab": [token, ...], "state_dict": {...},
     "metadata": {anything JSON-like: training data, accuracy, date, torch version}}

It is written atomically (a temporary file in the same folder, then ``os.replace``): a crash
mid-write leaves the previous file whole. It is read with ``torch.load(weights_only=True)``, so a
checkpoint from elsewhere cannot run code. Loading refuses, with a sentence saying what is wrong:
a file that is not such a checkpoint (or is damaged), another format version, a missing or empty
vocabulary, a vocabulary whose size disagrees with the model's, and weights that do not fit the
architecture the configuration describes (missing, unexpected or differently shaped tensors).
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rnncourse.runtime.files import atomic_path

__all__ = ["FORMAT_VERSION", "CheckpointError", "LoadedModel", "save_model", "load_model"]

FORMAT = "rnncourse.model"
FORMAT_VERSION = 1

# kind -> (module, class): the classes a checkpoint may name (never an arbitrary import path)
KINDS = {
    "sentiment": ("rnncourse.nn.models", "SentimentClassifier"),
    "char-lm": ("rnncourse.nn.language_model", "CharLM"),
}


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message says why, in the user's terms."""


@dataclass
class LoadedModel:
    """What :func:`load_model` returns: the model (eval mode, on the CPU) and what came with it."""

    model: nn.Module
    kind: str
    vocab: list[str]
    config: dict
    metadata: dict = field(default_factory=dict)


def _model_class(kind: str) -> type[nn.Module]:
    if kind not in KINDS:
        raise CheckpointError(f"unknown model kind {kind!r}; this library knows {sorted(KINDS)}.")
    module, name = KINDS[kind]
    return getattr(importlib.import_module(module), name)


def save_model(path: str | os.PathLike, model: nn.Module, *, kind: str, config: dict,
               vocab: list[str], metadata: dict | None = None) -> Path:
    """Write ``model``'s weights with its ``kind``, constructor ``config``, ``vocab`` (index ->
    token) and ``metadata`` to ``path`` atomically; return the path.

    Checked before anything is written: ``kind`` is known, the vocabulary is a non-empty list of
    strings, and a model built from ``config`` has exactly ``model``'s tensor names and shapes
    (so the file can be loaded back).
    """
    cls = _model_class(kind)
    if not vocab or not all(isinstance(t, str) for t in vocab):
        raise CheckpointError("the vocabulary must be a non-empty list of strings (index -> token).")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    _check_fits(cls(**config), state, "the model given")
    document = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind, "config": dict(config),
        "vocab": list(vocab), "state_dict": state,
        "metadata": {"saved": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                     "torch": str(torch.__version__), **(metadata or {})},
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(document, tmp)
    return path


def _check_fits(model: nn.Module, state: dict, source: str) -> None:
    """Raise CheckpointError unless ``state`` has exactly ``model``'s tensor names and shapes."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    missing = sorted(expected.keys() - got.keys())
    unexpected = sorted(got.keys() - expected.keys())
    reshaped = [f"{k} {got[k]} (the configuration builds {expected[k]})"
                for k in expected.keys() & got.keys() if expected[k] != got[k]]
    if missing or unexpected or reshaped:
        parts = []
        if missing:
            parts.append(f"missing weights: {', '.join(missing[:5])}")
        if unexpected:
            parts.append(f"unexpected weights: {', '.join(unexpected[:5])}")
        if reshaped:
            parts.append(f"weights of another shape: {'; '.join(sorted(reshaped)[:5])}")
        raise CheckpointError(f"{source} does not fit the architecture its configuration describes "
                              f"(was the model changed?): {'; '.join(parts)}.")


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Read a :func:`save_model` file safely and rebuild its model (eval mode, CPU)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no model file at {path}.")
    try:
        document = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a truncated, damaged or foreign file: say so, not a pickle traceback
        raise CheckpointError(f"{path} is not a readable checkpoint (damaged, truncated, or not "
                              f"written by save_model): {type(error).__name__}: {str(error)[:200]}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a model checkpoint written by rnncourse.deploy.checkpoint.save_model "
                              "(a training checkpoint of rnncourse.train holds no vocabulary or configuration).")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path} has checkpoint format version {version}; this version of rnncourse "
                              f"reads version {FORMAT_VERSION}. Re-save it with the rnncourse that wrote it.")
    vocab = document.get("vocab")
    if not vocab or not isinstance(vocab, list):
        raise CheckpointError(f"{path} has no vocabulary: a model cannot read text without the vocabulary "
                              "it was trained with. Save it with save_model(..., vocab=vocab.itos).")
    kind, config = document.get("kind"), document.get("config") or {}
    try:
        model = _model_class(kind)(**config)
    except CheckpointError:
        raise
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: its configuration {config} does not build a {kind} model: {error}") from None
    size = config.get("vocab_size")
    if size is not None and size != len(vocab):
        raise CheckpointError(f"{path}: the vocabulary holds {len(vocab)} tokens but the model was built "
                              f"for {size}; the file mixes two trainings.")
    _check_fits(model, document["state_dict"], str(path))
    model.load_state_dict(document["state_dict"])
    return LoadedModel(model.eval(), kind, vocab, config, document.get("metadata") or {})
