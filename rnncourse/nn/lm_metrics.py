"""Measuring a character language model: the windowed loss, what its hidden units track, and how
varied its samples are.

**Windowed loss** (nanoGPT's metric). Cut the ids ``x_0 .. x_{N-1}`` into consecutive windows of
``W`` ids; every window starts from nothing (a zero state, an empty context), and each position
``t`` of a window is scored on the next id given the window's ids up to ``t``::

    loss = -(1 / (N - 1)) * sum_t log p(x_{t+1} | x_{s(t)} .. x_t),    s(t) = W * floor(t / W)

so the first prediction of every window sees one id (the window's first) and the last ``W``. nanoGPT
estimates this mean from random windows of its context (256); here every window of the split is
read once, so the figure has no sampling noise. A recurrent model can also be scored with its
state carried across the whole text (unbounded context); the two are different numbers and a
comparison must use one of them for both models.

**Unit correlations.** With the top layer's activations ``a (N, H)`` over a text and a feature
``f (N,)`` of the same positions (position in the line, inside a speaker's name, ...), unit ``j``
gets Pearson's ``r_j = cov(a_j, f) / (std(a_j) std(f))``; ``|r_j|`` near 1 means unit ``j`` tracks
the feature (karpathy, "The unreasonable effectiveness of recurrent neural networks", 2015).

**Sample diversity.** Over the words of a generated text: ``distinct_n`` is the number of
distinct n-grams over the number of n-grams (1 = never repeats itself; a loop drives it towards
0, and ``1 - distinct_n`` is the share of n-grams that repeat an earlier one); ``ngrams_in`` the
share of n-grams that also occur in a reference text, such as the training text (copying).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["window_batches", "windowed_loss", "hidden_activations", "text_features", "unit_correlations",
           "distinct_n", "ngrams_in"]


def _logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    return out[0] if isinstance(out, tuple) else out          # CharLM returns (logits, state)


def window_batches(ids: torch.Tensor, window: int, batch_size: int = 64) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The windows of the windowed loss as ``(inputs, targets)`` batches: consecutive windows of
    ``window`` ids covering all of ``ids`` (1-D), at most ``batch_size`` per batch, inputs
    ``(rows, window)`` and targets shifted by one; the last window is shorter when ``window`` does
    not divide ``len(ids) - 1``, and comes alone in the last batch."""
    ids = torch.as_tensor(ids, dtype=torch.long).flatten()
    if window < 1 or batch_size < 1 or ids.numel() < 2:
        raise ValueError(f"window_batches needs window >= 1, batch_size >= 1 and at least 2 ids, "
                         f"got {window}, {batch_size} and {ids.numel()}.")
    n = ids.numel() - 1                                        # positions that have a next id
    full = n // window
    batches = []
    if full:
        rows = ids[: full * window + 1].unfold(0, window + 1, window)  # (full, window + 1)
        batches = [(part[:, :-1], part[:, 1:]) for part in rows.split(batch_size)]
    if n % window:
        tail = ids[full * window:].unsqueeze(0)                # the last, shorter window
        batches.append((tail[:, :-1], tail[:, 1:]))
    return batches


def windowed_loss(model: nn.Module, ids: torch.Tensor, window: int = 256, *,
                  batch_size: int = 64) -> float:
    """Mean next-id loss in nats over all of ``ids`` (1-D), in windows of ``window`` ids, each
    from a zero state (:func:`window_batches`). ``model(x)`` takes ``(batch, T)`` ids and returns
    logits ``(batch, T, V)`` (or a tuple that starts with them). The model runs in eval mode and
    gets its mode back."""
    batches = window_batches(ids, window, batch_size)
    device = next(model.parameters()).device
    total, count, was_training = 0.0, 0, model.training
    model.eval()
    try:
        with torch.inference_mode():
            for x, y in batches:
                logits = _logits(model, x.to(device))
                total += nn.functional.cross_entropy(logits.flatten(0, 1), y.to(device).flatten(),
                                                     reduction="sum").item()
                count += y.numel()
    finally:
        model.train(was_training)
    return total / count


def hidden_activations(model: nn.Module, ids: torch.Tensor, *, chunk: int = 1000) -> np.ndarray:
    """The top recurrent layer's output ``h_t`` after reading each of ``ids`` in one stream from
    a zero state, the state carried from chunk to chunk: a float array ``(len(ids), hidden)``.
    ``model(x, state)`` must return ``(logits, state)`` and have ``model.rnn`` (as ``CharLM``)."""
    ids = torch.as_tensor(ids, dtype=torch.long).flatten()
    device = next(model.parameters()).device
    outputs, state, was_training = [], None, model.training
    model.eval()
    try:
        with torch.inference_mode():
            for part in ids.split(chunk):
                x = model.embed(part.to(device).unsqueeze(0))          # (1, chunk, embed_dim)
                out, state = model.rnn(x, state)                       # (1, chunk, hidden)
                outputs.append(out[0].float().cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(outputs)


def text_features(text: str) -> dict[str, np.ndarray]:
    """Features of every character of a play's ``text``, as float arrays of ``len(text)``:

    - ``"position in the line"``: characters since the last newline;
    - ``"in a speaker's name"``: 1 on a line that names a speaker (ends with ':', no lower case);
    - ``"line of the speech"``: lines since the last speaker's name (0 on the name's line);
    - ``"position in the word"``: letters since the last non-letter (0 outside words).
    """
    lines = text.split("\n")
    line_pos, speaker, speech, word = (np.zeros(len(text)) for _ in range(4))
    start, since_name = 0, 0
    for line in lines:
        end = min(start + len(line) + 1, len(text))             # the line and its newline
        name = line.strip()
        is_name = name.endswith(":") and not any(c.islower() for c in name)
        since_name = 0 if is_name else since_name + 1
        line_pos[start:end] = np.arange(end - start)
        speaker[start:end] = float(is_name)
        speech[start:end] = since_name
        start = end
    letters = 0
    for i, ch in enumerate(text):
        letters = letters + 1 if ch.isalpha() else 0
        word[i] = letters
    return {"position in the line": line_pos, "in a speaker's name": speaker,
            "line of the speech": speech, "position in the word": word}


def unit_correlations(activations: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``activations (N, H)`` with ``feature (N,)``:
    an array ``(H,)`` in [-1, 1]; a constant unit (or feature) gets 0."""
    a = np.asarray(activations, dtype=np.float64)
    f = np.asarray(feature, dtype=np.float64)
    if a.ndim != 2 or f.shape != (a.shape[0],):
        raise ValueError(f"need activations (N, H) and a feature (N,), got {a.shape} and {f.shape}.")
    a = a - a.mean(axis=0)
    f = f - f.mean()
    norms = np.sqrt((a * a).sum(axis=0) * (f * f).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * f[:, None]).sum(axis=0) / norms
    return np.where(norms > 0, r, 0.0)


def _ngrams(words: Sequence[str], n: int) -> list[tuple[str, ...]]:
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}.")
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def distinct_n(text: str, n: int) -> float:
    """Distinct word n-grams over all word n-grams of ``text`` (0 when it has none)."""
    grams = _ngrams(text.split(), n)
    return len(set(grams)) / len(grams) if grams else 0.0


def ngrams_in(text: str, reference: str, n: int) -> float:
    """Share of the word n-grams of ``text`` that also occur in ``reference`` (e.g. the training
    text: how much of a sample is copied from it); 0 when ``text`` has none."""
    grams = _ngrams(text.split(), n)
    if not grams:
        return 0.0
    known = set(_ngrams(reference.split(), n))
    return sum(gram in known for gram in grams) / len(grams)
