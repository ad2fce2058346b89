"""A versioned checkpoint: everything needed to serve a trained model, in one file.

::

    save_model("sentiment.pt", model, kind="sentiment", config=dict(vocab_size=..., ...),
               vocab=vocab.itos, metadata={"test_accuracy": 0.87, "max_len": 200})
    loaded = load_model("sentiment.pt")            # loaded.model (eval mode), .vocab, .config, .metadata

The file is a ``torch.save`` dictionary of tensors and plain Python values only::

    {"format": "rnncourse.model", "format_version": 1, "kind": "sentiment" | "char-lm",
     "config": {constructor keyword arguments}, "vocab": [token, ...], "state_dict": {...},
     "weights_sha256": "<hex digest of the weights>",
     "metadata": {plain JSON: training data, accuracy, date, torch version}}

It is written atomically (a temporary file in the same folder, then ``os.replace``): a crash
mid-write leaves the previous file whole. It is read with ``torch.load(weights_only=True)``: a
restricted unpickler that rebuilds tensors, containers and numbers and refuses a file that names
any other function, which stops the ordinary pickle attack; it is a parser, not a sandbox, and
bypasses were published and fixed (CVE-2025-32434, before torch 2.6; CVE-2026-24747, before
2.10), so a file from a stranger belongs in safetensors with its sha256 checked (chapter 8).
Loading refuses, with one line saying what is wrong (``CheckpointError``): a file that is not such
a checkpoint, or is damaged (its zip records' CRC-32 or the weights' SHA-256 disagree with its
bytes); another format version; a vocabulary that is
missing, empty or not strings, or whose size disagrees with the model's; a configuration that does
not build the model (checked on the ``meta`` device, so a huge ``hidden_size`` allocates nothing);
weights that are missing, not tensors, not finite, or do not fit that architecture; metadata that
is not plain JSON, or a sentiment ``max_len`` that is not a positive integer. ``save_model``
refuses metadata it could not read back, naming the key.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from rnncourse.deploy.checkpoint_checks import (CheckpointError, build_on_meta, check_plain_json,
                                                 check_state, check_zip, one_line, weights_digest)
from rnncourse.runtime.files import atomic_path

__all__ = ["FORMAT_VERSION", "CheckpointError", "LoadedModel", "save_model", "load_model"]

FORMAT = "rnncourse.model"
FORMAT_VERSION = 1

# kind -> (module, class): the classes a checkpoint may name (never an arbitrary import path)
KINDS = {
    "sentiment": ("rnncourse.nn.models", "SentimentClassifier"),
    "char-lm": ("rnncourse.nn.language_model", "CharLM"),
}


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
    strings, ``config`` and ``metadata`` are plain JSON (the key that is not is named), the
    weights are finite, and a model built from ``config`` has exactly ``model``'s tensor names and
    shapes (so the file can be loaded back). The weights' SHA-256 is stored with them.
    """
    cls = _model_class(kind)
    if not isinstance(vocab, list) or not vocab or not all(isinstance(t, str) for t in vocab):
        raise CheckpointError("the vocabulary must be a non-empty list of strings (index -> token).")
    check_plain_json(dict(config), "config")
    metadata = {"saved": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "torch": str(torch.__version__), **(metadata or {})}
    check_plain_json(metadata, "metadata")
    _check_metadata(kind, metadata, "the metadata given")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    check_state(state, "the model given")
    _check_fits(build_on_meta(cls, dict(config), "the model given"), state, "the model given")
    document = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind, "config": dict(config),
        "vocab": list(vocab), "state_dict": state, "weights_sha256": weights_digest(state),
        "metadata": metadata,
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(document, tmp)
    return path


def _check_metadata(kind: str, metadata: dict, source: str) -> None:
    """What the server reads from the metadata has a usable value."""
    max_len = metadata.get("max_len")
    if kind == "sentiment" and max_len is not None and (
            isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1):
        raise CheckpointError(f"{source}: max_len (the tokens of a review the model reads) must be a "
                              f"positive integer, got {max_len!r}.")


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


def _read(path: Path) -> dict:
    """The file's dictionary, read safely, with its format and version checked."""
    if not path.is_file():
        raise CheckpointError(f"no model file at {path}.")
    check_zip(path)
    try:
        document = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a truncated, damaged or foreign file: say so, not a pickle traceback
        raise CheckpointError(f"{path} is not a readable checkpoint (damaged, truncated, or not "
                              f"written by save_model): {one_line(error, 200)}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a model checkpoint written by rnncourse.deploy.checkpoint.save_model "
                              "(a training checkpoint of rnncourse.train holds no vocabulary or configuration).")
    version = document.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise CheckpointError(f"{path} has checkpoint format version {version!r}; this version of rnncourse "
                              f"reads version {FORMAT_VERSION!r}. Re-save it with the rnncourse that wrote it.")
    return document


def _check_parts(document: dict, source: str) -> tuple[str, list, dict, dict]:
    """kind, vocab, config and metadata of ``document``, each of the type it must have."""
    kind, vocab = document.get("kind"), document.get("vocab")
    config, metadata = document.get("config", {}), document.get("metadata", {})
    if not isinstance(kind, str):
        raise CheckpointError(f"{source} names no model kind (got {kind!r}).")
    if not vocab or not isinstance(vocab, list):
        raise CheckpointError(f"{source} has no vocabulary: a model cannot read text without the vocabulary "
                              "it was trained with. Save it with save_model(..., vocab=vocab.itos).")
    if not all(isinstance(t, str) for t in vocab):
        odd = next(t for t in vocab if not isinstance(t, str))
        raise CheckpointError(f"{source}: the vocabulary must be strings (index -> token), it holds {odd!r}.")
    for name, part in (("config", config), ("metadata", metadata)):
        if not isinstance(part, dict):
            raise CheckpointError(f"{source}: its {name} must be a dictionary, got {type(part).__name__}.")
        check_plain_json(part, f"{source}: {name}")
    _check_metadata(kind, metadata, source)
    return kind, vocab, config, metadata


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Read a :func:`save_model` file safely and rebuild its model (eval mode, CPU).

    Order: the file's CRC-32s, its format and version, the types of its parts, the configuration
    built on the meta device, the vocabulary's size, the weights' names and shapes against that
    build, their SHA-256 against the stored one, their finiteness; only then is memory allocated.
    """
    path = Path(path)
    source = str(path)
    document = _read(path)
    kind, vocab, config, metadata = _check_parts(document, source)
    cls = _model_class(kind)
    skeleton = build_on_meta(cls, config, source)
    size = config.get("vocab_size")
    if size is not None and size != len(vocab):
        raise CheckpointError(f"{path}: the vocabulary holds {len(vocab)} tokens but the model was built "
                              f"for {size}; the file mixes two trainings.")
    state = document.get("state_dict")
    check_state(state, source)
    _check_fits(skeleton, state, source)
    if document.get("weights_sha256") != weights_digest(state):
        raise CheckpointError(f"{path}: its weights do not match the SHA-256 stored when it was saved "
                              "(changed since, or written without one); copy it again or re-save it.")
    model = cls(**config)
    model.load_state_dict(state)
    return LoadedModel(model.eval(), kind, vocab, config, metadata)
