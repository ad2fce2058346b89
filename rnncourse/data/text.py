"""Text to integers: a tokenizer and a vocabulary.

``tokenize(text)``  lower-cased words and punctuation marks, in the spirit of torchtext's
                    ``basic_english`` (torchtext is unmaintained and does not match torch 2.13)
``Vocab``           token <-> index, built from token lists with ``max_size`` / ``min_freq`` and
                    special tokens (``<pad>`` = 0, ``<unk>``); saved and loaded as JSON

::

    tokens = [tokenize(t) for t in texts]
    vocab = Vocab.build(tokens, max_size=20_000, min_freq=2)
    ids = vocab.encode(tokens[0], max_len=256)   # list[int], unknown words -> vocab.unk_index
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

__all__ = ["Vocab", "tokenize"]

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into lower-cased tokens: words (apostrophes inside a word kept: ``don't``)
    and single punctuation marks; ``<br />`` counts as white space.

    >>> tokenize("It's GREAT!<br />Not bad... 9/10")
    ["it's", 'great', '!', 'not', 'bad', '.', '.', '.', '9', '/', '10']

    Differences from torchtext's ``basic_english``: it split ``it's`` into ``it ' s`` and dropped
    quotes, ``;`` and ``:``; here they are tokens. Unicode letters and digits are word characters.
    """
    return _TOKEN.findall(_BREAK.sub(" ", text).lower())


class Vocab:
    """A vocabulary: ``itos`` (index -> token list) and ``stoi`` (token -> index dict).

    Special tokens come first, in the order given (``<pad>`` must be first, so that
    ``pad_index == 0`` and padding with zeros is padding); the others follow by decreasing
    frequency, ties in alphabetical order, so a vocabulary is the same on every machine.
    ``vocab[token]`` is the token's index, or ``unk_index`` for a token it does not hold
    (``KeyError`` if it has no ``<unk>``).
    """

    PAD = "<pad>"
    UNK = "<unk>"

    def __init__(self, itos: Sequence[str]) -> None:
        self.itos: list[str] = list(itos)
        self.stoi: dict[str, int] = {}
        for index, token in enumerate(self.itos):
            if token in self.stoi:
                raise ValueError(f"token {token!r} appears twice in the vocabulary (at {self.stoi[token]} and {index})")
            self.stoi[token] = index
        if self.PAD in self.stoi and self.stoi[self.PAD] != 0:
            raise ValueError(f"{self.PAD!r} must be the first token (index 0), so that padding with 0 is padding.")
        self.pad_index: int | None = self.stoi.get(self.PAD)
        self.unk_index: int | None = self.stoi.get(self.UNK)

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Iterable[str]],
        *,
        max_size: int | None = None,
        min_freq: int = 1,
        specials: Sequence[str] = ("<pad>", "<unk>"),
    ) -> "Vocab":
        """Count the tokens of ``token_lists`` (any iterable, read once) and keep the frequent ones.

        Args:
            max_size: the most tokens in the vocabulary, specials included.
            min_freq: a token needs at least this many occurrences.
            specials: tokens placed first whatever their counts (e.g. add ``"<sos>", "<eos>"``).
        """
        if min_freq < 1:
            raise ValueError(f"min_freq must be at least 1, got {min_freq}.")
        if max_size is not None and max_size < len(specials):
            raise ValueError(f"max_size={max_size} leaves no room for the {len(specials)} special tokens.")
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            if isinstance(tokens, str):
                raise TypeError("Vocab.build wants lists of tokens, got a string; tokenize it first.")
            counts.update(tokens)
        special = set(specials)
        kept = sorted((t for t, c in counts.items() if c >= min_freq and t not in special), key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[: max_size - len(specials)]
        return cls([*specials, *kept])

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        index = self.stoi.get(token, self.unk_index)
        if index is None:
            raise KeyError(f"{token!r} is not in the vocabulary, and it has no {self.UNK!r} token to stand for it.")
        return index

    def encode(self, tokens: Iterable[str], max_len: int | None = None) -> list[int]:
        """Indices of ``tokens``, truncated to the first ``max_len`` (no padding: collate pads)."""
        ids = [self[t] for t in tokens]
        return ids if max_len is None else ids[:max_len]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of a sequence of indices (list or 1-D tensor); padding is kept."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        return [self.itos[i] for i in ids]

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as JSON (``{"format": "rnncourse.Vocab", "version": 1, "itos": [...]}``)."""
        document = {"format": "rnncourse.Vocab", "version": 1, "itos": self.itos}
        Path(path).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "Vocab":
        """Read a vocabulary written by ``save``."""
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("format") != "rnncourse.Vocab":
            raise ValueError(f"{path} is not a vocabulary saved by Vocab.save.")
        if document.get("version") != 1:
            raise ValueError(f"{path} is a vocabulary of format version {document.get('version')}; this library reads version 1.")
        return cls(document["itos"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def __repr__(self) -> str:
        head = ", ".join(self.itos[:6])
        return f"Vocab(size={len(self):,}: {head}{', ...' if len(self) > 6 else ''})"
