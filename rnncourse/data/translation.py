"""Splitting and grouping sentence pairs for translation (chapter 5).

``EnglishFrench`` holds several translations of many English sentences, and the same sentence
written with and without contractions ("she is my daughter ." and "she's my daughter ."). A split
by exact English sentence lets such near-duplicates cross from training into test; a test
sentence's several translations scored one at a time against single references undercounts
every output that matches another of them. So::

    train, valid, test = grouped_split(pairs, (0.8, 0.1, 0.1), seed=0)   # no key crosses
    sources, references = group_references(test)   # each English once, with all its French

``split_key`` is what groups: contractions expanded, case and punctuation folded.
"""

from __future__ import annotations

import random
import re
from typing import Sequence

__all__ = ["split_key", "grouped_split", "group_references"]

# English contractions, on text normalised by ``normalize_sentence`` (lower case, apostrophes
# kept inside words). "'s" after a pronoun or question word is "is" (or "has"; both keys group the
# same way), elsewhere it is a possessive and stays. Over-grouping is harmless for a split.
_IRREGULAR = {"won't": "will not", "can't": "can not", "cannot": "can not", "shan't": "shall not",
              "ain't": "is not", "let's": "let us", "y'all": "you all"}
_S_WORDS = ("he", "she", "it", "that", "what", "who", "there", "here", "where", "how", "when",
            "why", "this", "everything", "nothing", "someone", "somebody", "nobody", "everyone")
_SUFFIXES = ((re.compile(r"n't$"), " not"), (re.compile(r"'re$"), " are"), (re.compile(r"'m$"), " am"),
             (re.compile(r"'ve$"), " have"), (re.compile(r"'ll$"), " will"), (re.compile(r"'d$"), " would"))
_FULL = {"has": "is", "had": "would"}  # the full forms the ambiguous "'s" and "'d" stand for too


def _expand(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("'s") and word[:-2] in _S_WORDS:
        return word[:-2] + " is"
    for pattern, full in _SUFFIXES:
        if pattern.search(word):
            return pattern.sub(full, word)
    return word


def split_key(sentence: str) -> str:
    """The key a grouped split keeps together: contractions expanded, case and punctuation folded.

    ::

        split_key("She's my daughter.")   ->  "she is my daughter"
        split_key("she is my daughter !")  ->  "she is my daughter"
        split_key("I won't go, Tom's car") ->  "i will not go toms car"

    "'s" and "'d" are ambiguous ("he's gone": "he has"), so after a pronoun both the contraction
    and the full words "is"/"has" and "would"/"had" fold to one form.
    """
    words = re.sub(r"[^a-z0-9' ]", " ", sentence.lower()).split()
    expanded = " ".join(_expand(w) for w in words).split()
    folded = [_FULL.get(w, w) if i and expanded[i - 1] in _S_WORDS + ("i", "you", "we", "they") else w
              for i, w in enumerate(expanded)]
    return " ".join(w.replace("'", "") for w in folded)


def grouped_split(pairs: Sequence[tuple[str, str]], fractions: Sequence[float] = (0.8, 0.1, 0.1), *,
                  seed: int = 0, key=split_key) -> tuple[list, list, list]:
    """Train, validation and test pairs, split by ``key(source)``: pairs that share a key (the
    several translations of a sentence, its contracted twin) all land in the same split.

    The distinct keys are sorted, shuffled once with ``seed`` and cut by ``fractions`` (of the
    keys, not the pairs); each split keeps the pairs' original order.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three shares (train, valid, test) summing to 1, got {fractions}")
    keys = sorted({key(source) for source, _ in pairs})
    random.Random(seed).shuffle(keys)
    cut1 = int(fractions[0] * len(keys))
    cut2 = cut1 + int(fractions[1] * len(keys))
    where = {k: 0 for k in keys[:cut1]} | {k: 1 for k in keys[cut1:cut2]} | {k: 2 for k in keys[cut2:]}
    splits: tuple[list, list, list] = ([], [], [])
    for pair in pairs:
        splits[where[key(pair[0])]].append(pair)
    return splits


def group_references(pairs: Sequence[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:
    """Each distinct source once, in first-seen order, with every target it has: the references
    for multi-reference BLEU (``references[i]`` are the translations of ``sources[i]``)."""
    grouped: dict[str, list[str]] = {}
    for source, target in pairs:
        grouped.setdefault(source, []).append(target)
    return list(grouped), list(grouped.values())
