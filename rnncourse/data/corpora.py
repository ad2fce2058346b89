"""The course's three real datasets as ``torch.utils.data.Dataset``s.

Each one calls ``download`` on first use (a mirror or the official address; see
``rnncourse.data.download``) and then reads from the cache, without network.

``IMDB``            movie reviews, ``(text, label)``, label 0 = negative, 1 = positive
``TinyShakespeare`` one long string, character vocabulary, ``(x, y)`` windows shifted by one
``EnglishFrench``   normalised sentence pairs, ``(english, french)``

``len(dataset)`` is always the number of items ``dataset[i]`` can return.
"""

from __future__ import annotations

import functools
import random
import re
import unicodedata
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from rnncourse.data.download import download
from rnncourse.data.imdb import balanced_subset, clean_review, load_split, movie_split

__all__ = ["IMDB", "TinyShakespeare", "EnglishFrench", "normalize_sentence"]


# --------------------------------------------------------------------------------------------
# IMDB
# --------------------------------------------------------------------------------------------


class IMDB(Dataset):
    """The Large Movie Review Dataset (Maas et al., ACL 2011): 25,000 train and 25,000 test
    reviews, each half positive (rating >= 7 of 10) and half negative (rating <= 4).

    Args:
        split: ``"train"`` (training minus validation), ``"valid"`` (carved from training) or ``"test"``.
        valid_fraction: share of the training reviews held out for ``"valid"``. The split is by
            movie (no movie has reviews on both sides, as between the official train and test
            sets) and balanced per class.
        seed: fixes the validation split and the order of every split (shuffled, so any prefix is
            a fair sample).
        limit: keep at most this many reviews, half of each class, chosen deterministically (for
            the ``smoke`` profile).
        clean: undo the reviews' HTML with ``rnncourse.data.imdb.clean_review`` (``False``: the
            raw text).

    Items are ``(text, label)`` with ``label`` 0 (negative) or 1 (positive); ``len`` is the number
    of reviews. ``.texts``, ``.labels`` and ``.ratings`` (1-10) are plain lists, ``.classes`` names
    the labels. The first use parses 25,000 files per split into a JSON cache beside the extracted
    folder (a few seconds); later uses read that.

    Terms: cite Maas et al., "Learning Word Vectors for Sentiment Analysis", ACL-HLT 2011; the
    reviews are IMDb user content, for teaching and research, not for redistribution.
    """

    classes = ("neg", "pos")

    def __init__(
        self,
        split: str = "train",
        *,
        valid_fraction: float = 0.1,
        seed: int = 0,
        limit: int | None = None,
        clean: bool = True,
    ) -> None:
        if split not in ("train", "valid", "test"):
            raise ValueError(f"IMDB split {split!r} does not exist; use 'train', 'valid' or 'test'.")
        if not 0.0 <= valid_fraction < 1.0:
            raise ValueError(f"valid_fraction must be in [0, 1), got {valid_fraction}.")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be a non-negative number of reviews, got {limit}.")
        records = load_split(download("imdb"), "test" if split == "test" else "train")
        labels = records["labels"]
        if split == "test":
            indices = list(range(len(labels)))
            random.Random(seed).shuffle(indices)
        else:
            train, valid = movie_split(labels, records["movies"], valid_fraction, seed)
            indices = train if split == "train" else valid
        if limit is not None:
            indices = balanced_subset(indices, labels, limit)
        texts = records["texts"]
        self.split = split
        self.texts: list[str] = [clean_review(texts[i]) if clean else texts[i] for i in indices]
        self.labels: list[int] = [labels[i] for i in indices]
        self.ratings: list[int] = [records["ratings"][i] for i in indices]

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> tuple[str, int]:
        return self.texts[index], self.labels[index]

    def __repr__(self) -> str:
        positive = sum(self.labels)
        return f"IMDB(split={self.split!r}, reviews={len(self):,}, negative={len(self) - positive:,}, positive={positive:,})"


# --------------------------------------------------------------------------------------------
# tiny-shakespeare
# --------------------------------------------------------------------------------------------


class TinyShakespeare(Dataset):
    """tiny-shakespeare (karpathy/char-rnn): 1,115,394 characters of plays, 65 distinct.

    Args:
        split: ``"train"`` (the first ``1 - valid_fraction`` of the text) or ``"valid"`` (the rest),
            split by position as in char-rnn and nanoGPT.
        valid_fraction: share of the text at its end used for validation.
        seq_len: length of the windows the dataset yields.
        stride: step between window starts; default ``seq_len`` (non-overlapping windows);
            ``1`` gives every sliding window.

    Attributes:
        text: the split's text; ``decode(data) == text``.
        chars: the sorted characters of the WHOLE text (so both splits share one vocabulary);
            ``stoi`` maps character -> index, ``itos`` is the list index -> character.
        data: ``LongTensor (len(text),)``, the split encoded. Chapters batch it themselves for
            truncated BPTT.

    As a Dataset, item ``i`` is ``(x, y)``, two ``LongTensor (seq_len,)`` with
    ``x = data[s : s + seq_len]`` and ``y = data[s + 1 : s + seq_len + 1]``, ``s = i * stride``;
    ``len`` is the number of whole windows.
    """

    def __init__(
        self, split: str = "train", *, valid_fraction: float = 0.1, seq_len: int = 100, stride: int | None = None
    ) -> None:
        if split not in ("train", "valid"):
            raise ValueError(f"TinyShakespeare split {split!r} does not exist; use 'train' or 'valid'.")
        if not 0.0 <= valid_fraction < 1.0:
            raise ValueError(f"valid_fraction must be in [0, 1), got {valid_fraction}.")
        if seq_len < 1 or (stride is not None and stride < 1):
            raise ValueError(f"seq_len and stride must be at least 1, got {seq_len} and {stride}.")
        full = download("shakespeare").read_text(encoding="utf-8")
        self.chars: list[str] = sorted(set(full))
        self.stoi: dict[str, int] = {ch: i for i, ch in enumerate(self.chars)}
        self.itos: list[str] = list(self.chars)
        cut = int(len(full) * (1.0 - valid_fraction))
        self.split = split
        self.text: str = full[:cut] if split == "train" else full[cut:]
        self.seq_len = seq_len
        self.stride = stride or seq_len
        self.data: torch.Tensor = self.encode(self.text)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        """``LongTensor (len(text),)`` of character indices; a character not in the text is an error."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        table = np.full(max(max(map(ord, self.chars)), int(codes.max(initial=0))) + 1, -1, dtype=np.int64)
        table[[ord(ch) for ch in self.chars]] = np.arange(len(self.chars))
        ids = table[codes]
        if (ids < 0).any():
            unknown = sorted({ch for ch in text if ch not in self.stoi})
            raise KeyError(f"{unknown} not among tiny-shakespeare's {len(self.chars)} characters")
        return torch.from_numpy(ids)

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """The text of a sequence of indices (list or 1-D tensor)."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return "".join(self.itos[i] for i in ids)

    def __len__(self) -> int:
        return max(0, (len(self.data) - self.seq_len - 1) // self.stride + 1)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"window {index} out of range for {len(self)} windows")
        start = (index % len(self)) * self.stride
        return self.data[start : start + self.seq_len], self.data[start + 1 : start + self.seq_len + 1]

    def __repr__(self) -> str:
        return (
            f"TinyShakespeare(split={self.split!r}, characters={len(self.text):,}, vocab={self.vocab_size}, "
            f"windows={len(self):,} of {self.seq_len})"
        )


# --------------------------------------------------------------------------------------------
# English-French
# --------------------------------------------------------------------------------------------

# Characters NFKD leaves alone, spelled in ASCII.
_TYPOGRAPHY = (("’", "'"), ("‘", "'"), ("`", "'"), ("œ", "oe"), ("Œ", "OE"), ("æ", "ae"), ("Æ", "AE"), ("ß", "ss"))
# On ASCII: letters, digits, apostrophes and . ! ? , stay, the rest become spaces (a 1:1 table,
# which ``str.translate`` applies at C speed).
_ASCII = str.maketrans({chr(c): " " for c in range(128) if not (chr(c).isalnum() or chr(c) in "'.!?,")})
_LOOSE_APOSTROPHE = re.compile(r"(?<![a-z0-9])'|'(?![a-z0-9])")


def normalize_sentence(sentence: str) -> str:
    """Lower-case ASCII with ``. ! ? ,`` as separate tokens, in the spirit of the PyTorch seq2seq tutorial.

    Accents are dropped (``é`` -> ``e``, ``œ`` -> ``oe``), apostrophes inside words stay (``j'ai``,
    ``i'm``), every other character becomes a space (or disappears, if it is not ASCII)::

        normalize_sentence("Ça alors\u202f!")  ->  "ca alors !"
        normalize_sentence("I'm 20, OK?")      ->  "i'm 20 , ok ?"
    """
    if not sentence.isascii():
        for typographic, plain in _TYPOGRAPHY:
            if typographic in sentence:
                sentence = sentence.replace(typographic, plain)
        sentence = unicodedata.normalize("NFKD", sentence)
        sentence = sentence.encode("ascii", "ignore").decode("ascii")  # drops the accents NFKD split off
    sentence = sentence.lower().translate(_ASCII)
    for mark in ".!?,":
        if mark in sentence:
            sentence = sentence.replace(mark, f" {mark} ")
    if "'" in sentence:
        sentence = _LOOSE_APOSTROPHE.sub(" ", sentence)
    return " ".join(sentence.split())


@functools.lru_cache(maxsize=1)
def _normalized_pairs(path: str, mtime_ns: int) -> tuple[tuple[str, str], ...]:
    """Every pair of ``fra.txt`` normalised (memoised: a few seconds, once per process)."""
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 2:
                pairs.append((normalize_sentence(fields[0]), normalize_sentence(fields[1])))
    return tuple(pairs)


class EnglishFrench(Dataset):
    """English-French sentence pairs from Tatoeba via manythings.org/anki, normalised.

    Args:
        max_len: keep pairs whose two sides have at most this many tokens each
            (white-space separated, punctuation included).
        limit: keep at most this many pairs, a seeded random sample in file order.
        prefixes: keep pairs whose normalised English starts with one of these, e.g.
            ``("i am ", "i'm ", "he is ", "he's ", "she is ", "she's ", "you are ", "you're ",
            "we are ", "we're ", "they are ", "they're ")`` (the tutorial's filter, with our
            apostrophes).
        seed: the sample that ``limit`` takes.

    Items are ``(english, french)``, both normalised with ``normalize_sentence``; ``len`` is the
    number of pairs kept, ``.pairs`` the list of them. Both the 2-column file (``English<TAB>French``)
    and the newer 3-column one (with an attribution column) are read. The file is sorted roughly by
    length and holds several translations of some sentences, and contracted twins ("she's" and
    "she is"): split with ``rnncourse.data.grouped_split`` (no twin crosses) and score against
    every reference with ``rnncourse.data.group_references``.

    Terms: CC-BY 2.0 (France); attribute tatoeba.org and manythings.org/anki.
    """

    def __init__(
        self,
        *,
        max_len: int | None = None,
        limit: int | None = None,
        prefixes: tuple[str, ...] | None = None,
        seed: int = 0,
    ) -> None:
        pairs = []
        path = download("fra-eng")
        for english, french in _normalized_pairs(str(path), path.stat().st_mtime_ns):
            if max_len is not None and (len(english.split()) > max_len or len(french.split()) > max_len):
                continue
            if prefixes is not None and not english.startswith(tuple(prefixes)):
                continue
            pairs.append((english, french))
        if limit is not None and limit < len(pairs):
            keep = sorted(random.Random(seed).sample(range(len(pairs)), limit))
            pairs = [pairs[i] for i in keep]
        self.pairs: list[tuple[str, str]] = pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[str, str]:
        return self.pairs[index]

    def __repr__(self) -> str:
        return f"EnglishFrench(pairs={len(self):,})"
