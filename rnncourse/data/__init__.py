"""Data for the course: real datasets downloaded safely (or read from a mirror), generated tasks,
and the text pipeline from strings to padded, length-bucketed batches.

Datasets (``torch.utils.data.Dataset``; ``len`` is the number of items):

``IMDB(split)``                 ``(text, label)`` movie reviews, 25,000 train + 25,000 test
``TinyShakespeare(split)``      ``.data`` (character indices) and ``(x, y)`` windows
``EnglishFrench()``             ``(english, french)`` normalised sentence pairs
``DateNormalization(n)``        ``(source, target)``: "Wed, Mar 3 2021" -> "2021-03-03"
``AddingProblem(n, seq_len)``   ``(x (seq_len, 2), y ())``
``CopyTask(n, seq_len)``        ``(x (T,), y (T,))`` token sequences
``SyntheticSentiment(n)``       ``(text, label)`` short reviews with negation

Truncated BPTT over one long text: ``ContiguousBatches(data, batch_size, bptt)``, side-by-side
streams whose rows continue from batch to batch (carry the hidden state).

Translation pairs: ``grouped_split(pairs)`` (by ``split_key``: no contracted twin crosses the
split) and ``group_references(pairs)`` (each source once, with all its references).

Text pipeline: ``tokenize``, ``Vocab``, ``pad_collate`` (per-step labels padded with
``LABEL_PAD`` = -100, the ``ignore_index`` of ``cross_entropy``), ``BucketBatchSampler``.

Downloads: ``download(name)``, ``cache_dir()``; the cache is ``$RNNCOURSE_DATA`` (default
``~/.cache/rnncourse`` on Linux) and ``$RNNCOURSE_MIRROR`` (a folder or base URL) is tried before
the internet. See ``rnncourse.data.download`` for the mirror layout, verification and the
datasets' terms; ``rnncourse download all`` fetches everything once (e.g. before a class).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# The download module needs no torch and is imported now; this also makes the name ``download``
# the function, not the submodule of the same name (reach the module with
# ``importlib.import_module("rnncourse.data.download")``). The other submodules load on first
# use, so ``rnncourse download`` starts without importing torch.
from rnncourse.data.download import DataError, cache_dir, download

_LAZY = {
    "AddingProblem": "synthetic",
    "BucketBatchSampler": "batching",
    "ContiguousBatches": "streams",
    "CopyTask": "synthetic",
    "DateNormalization": "synthetic",
    "EnglishFrench": "corpora",
    "IMDB": "corpora",
    "LABEL_PAD": "batching",
    "SyntheticSentiment": "synthetic",
    "TinyShakespeare": "corpora",
    "Vocab": "text",
    "clean_review": "corpora",
    "group_references": "translation",
    "grouped_split": "translation",
    "pad_collate": "batching",
    "split_key": "translation",
    "tokenize": "text",
}

if TYPE_CHECKING:
    from rnncourse.data.batching import LABEL_PAD, BucketBatchSampler, pad_collate
    from rnncourse.data.streams import ContiguousBatches
    from rnncourse.data.corpora import IMDB, EnglishFrench, TinyShakespeare, clean_review
    from rnncourse.data.synthetic import AddingProblem, CopyTask, DateNormalization, SyntheticSentiment
    from rnncourse.data.text import Vocab, tokenize
    from rnncourse.data.translation import group_references, grouped_split, split_key


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"rnncourse.data.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rnncourse.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "AddingProblem",
    "BucketBatchSampler",
    "ContiguousBatches",
    "CopyTask",
    "DataError",
    "DateNormalization",
    "EnglishFrench",
    "IMDB",
    "LABEL_PAD",
    "SyntheticSentiment",
    "TinyShakespeare",
    "Vocab",
    "cache_dir",
    "clean_review",
    "download",
    "group_references",
    "grouped_split",
    "pad_collate",
    "split_key",
    "tokenize",
]
