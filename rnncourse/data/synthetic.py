"""Generated tasks: reproducible from a seed, no download, any size.

``DateNormalization``  many surface forms of a date -> ``YYYY-MM-DD``      (seq2seq, attention)
``AddingProblem``      sum the two marked numbers of a long sequence       (long-range memory)
``CopyTask``           reproduce a few symbols after a long blank delay   (long-range memory)
``SyntheticSentiment`` short reviews with negation and "but"               (fast classifier tests)

Every dataset builds all its items at construction (the same ``seed`` gives the same items on any
machine) and ``len`` is the ``n`` it was given.
"""

from __future__ import annotations

import datetime as dt
import math
import random

import torch
from torch.utils.data import Dataset

__all__ = ["AddingProblem", "CopyTask", "DateNormalization", "SyntheticSentiment"]


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# Each form writes a date; the comment shows 2021-03-03. Slashes put the month first (US),
# dots the day first (European), so no form is ambiguous.
_FORMS = (
    lambda d: f"{d.day} {_MONTHS[d.month - 1]} {d.year}",  # 3 March 2021
    lambda d: f"{d.day:02d} {_MONTHS[d.month - 1][:3]} {d.year}",  # 03 Mar 2021
    lambda d: f"{d.day} {_MONTHS[d.month - 1][:3].upper()} {d.year}",  # 3 MAR 2021
    lambda d: f"{d.day} {_MONTHS[d.month - 1].lower()} {d.year}",  # 3 march 2021
    lambda d: f"{_MONTHS[d.month - 1]} {d.day}, {d.year}",  # March 3, 2021
    lambda d: f"{_MONTHS[d.month - 1]} {d.day}, {d.year % 100:02d}",  # March 3, 21
    lambda d: f"{_MONTHS[d.month - 1][:3]} {d.day} {d.year}",  # Mar 3 2021
    lambda d: f"{_DAYS[d.weekday()][:3]}, {_MONTHS[d.month - 1][:3]} {d.day} {d.year}",  # Wed, Mar 3 2021
    lambda d: f"{_DAYS[d.weekday()]}, {_MONTHS[d.month - 1]} {d.day}, {d.year}",  # Wednesday, March 3, 2021
    lambda d: f"{_MONTHS[d.month - 1]} {_ordinal(d.day)}, {d.year}",  # March 3rd, 2021
    lambda d: f"the {_ordinal(d.day)} of {_MONTHS[d.month - 1]} {d.year}",  # the 3rd of March 2021
    lambda d: f"{d.month:02d}/{d.day:02d}/{d.year}",  # 03/03/2021
    lambda d: f"{d.month}/{d.day}/{d.year % 100:02d}",  # 3/3/21
    lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",  # 03.03.2021
    lambda d: f"{d.day}.{d.month}.{d.year % 100:02d}",  # 3.3.21
    lambda d: d.isoformat(),  # 2021-03-03
)
_FIRST_DAY = dt.date(1950, 1, 1)
_LAST_DAY = dt.date(2049, 12, 31)


class DateNormalization(Dataset):
    """Dates written in 16 surface forms, each paired with its ISO form ``YYYY-MM-DD``.

    Dates are uniform over 1950-01-01 .. 2049-12-31, so a two-digit year is unambiguous
    (``21`` -> 2021, ``73`` -> 1973). Forms (shown for 2021-03-03): ``3 March 2021``,
    ``03 Mar 2021``, ``3 MAR 2021``, ``3 march 2021``, ``March 3, 2021``, ``March 3, 21``,
    ``Mar 3 2021``, ``Wed, Mar 3 2021``, ``Wednesday, March 3, 2021``, ``March 3rd, 2021``,
    ``the 3rd of March 2021``, ``03/03/2021`` and ``3/3/21`` (month first), ``03.03.2021`` and
    ``3.3.21`` (day first), ``2021-03-03``. Weekdays are the true ones.

    Items are ``(source, target)`` strings; ``.sources`` and ``.targets`` are the lists.
    """

    def __init__(self, n: int, *, seed: int = 0) -> None:
        rng = random.Random(seed)
        span = (_LAST_DAY - _FIRST_DAY).days + 1
        self.sources: list[str] = []
        self.targets: list[str] = []
        for _ in range(n):
            date = _FIRST_DAY + dt.timedelta(days=rng.randrange(span))
            self.sources.append(rng.choice(_FORMS)(date))
            self.targets.append(date.isoformat())

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, index: int) -> tuple[str, str]:
        return self.sources[index], self.targets[index]


# --------------------------------------------------------------------------------------------
# Long-range memory
# --------------------------------------------------------------------------------------------


class AddingProblem(Dataset):
    """The adding problem (Hochreiter & Schmidhuber 1997; in the form of Le et al. 2015).

    Each input is ``(seq_len, 2)``: channel 0 holds values uniform in [0, 1), channel 1 is a
    marker that is 1 at exactly two positions, one in the first half and one in the second half
    (``seq_len // 2`` splits them). The target is the sum of the two marked values, in [0, 2).
    Predicting the constant 1 gives a mean squared error of 1/6 (the variance of the sum of two
    uniform numbers): a model must beat that to have learned anything.

    Items are ``(x, y)``: ``x`` FloatTensor ``(seq_len, 2)``, ``y`` FloatTensor ``()``.
    ``.x`` ``(n, seq_len, 2)`` and ``.y`` ``(n,)`` hold them all.
    """

    def __init__(self, n: int, seq_len: int, *, seed: int = 0) -> None:
        if seq_len < 2:
            raise ValueError(f"seq_len must be at least 2 (one mark in each half), got {seq_len}.")
        g = torch.Generator().manual_seed(seed)
        values = torch.rand(n, seq_len, generator=g)
        half = seq_len // 2
        first = torch.randint(0, half, (n,), generator=g)
        second = torch.randint(half, seq_len, (n,), generator=g)
        rows = torch.arange(n)
        markers = torch.zeros(n, seq_len)
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        self.x: torch.Tensor = torch.stack([values, markers], dim=-1)
        self.y: torch.Tensor = values[rows, first] + values[rows, second]

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[index], self.y[index]


class CopyTask(Dataset):
    """The copy-memory task (Hochreiter & Schmidhuber 1997; as in Arjovsky et al. 2016).

    Tokens: ``0`` blank, ``1..n_symbols`` data, ``n_symbols + 1`` the delimiter ("now repeat").
    With ``T = 2 * seq_len + delay``::

        x = s_1 .. s_seq_len | 0 x (delay - 1) | delimiter | 0 x seq_len
        y = 0 x (seq_len + delay)                          | s_1 .. s_seq_len

    so the model reads ``seq_len`` random symbols, waits ``delay`` steps, and must write them back
    after the delimiter; ``y`` is predicted at every step. A model without memory that outputs
    blanks, then guesses uniformly, has cross-entropy ``seq_len * ln(n_symbols) / T`` per step
    (``.baseline_loss``): the level to beat.

    Items are ``(x, y)``, two LongTensor ``(T,)``; ``.x``, ``.y`` are ``(n, T)``;
    ``.vocab_size = n_symbols + 2``, ``.blank = 0``, ``.delimiter = n_symbols + 1``.
    """

    def __init__(self, n: int, seq_len: int, *, delay: int = 20, n_symbols: int = 8, seed: int = 0) -> None:
        if seq_len < 1 or delay < 1 or n_symbols < 1:
            raise ValueError(f"seq_len, delay and n_symbols must be at least 1, got {seq_len}, {delay}, {n_symbols}.")
        g = torch.Generator().manual_seed(seed)
        symbols = torch.randint(1, n_symbols + 1, (n, seq_len), generator=g)
        total = 2 * seq_len + delay
        self.blank = 0
        self.delimiter = n_symbols + 1
        self.vocab_size = n_symbols + 2
        self.baseline_loss = seq_len * math.log(n_symbols) / total
        self.x: torch.Tensor = torch.zeros(n, total, dtype=torch.long)
        self.x[:, :seq_len] = symbols
        self.x[:, seq_len + delay - 1] = self.delimiter
        self.y: torch.Tensor = torch.zeros(n, total, dtype=torch.long)
        self.y[:, seq_len + delay :] = symbols

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[index], self.y[index]


# --------------------------------------------------------------------------------------------
# Sentiment with negation
# --------------------------------------------------------------------------------------------

_SUBJECTS = ("the movie", "the film", "this film", "this movie", "the plot", "the acting", "the story",
             "the ending", "the music", "the cast")
_VERBS = ("was", "is")
_INTENSIFIERS = ("", "", "very", "really", "quite")
_ADJECTIVES = (
    ("bad", "boring", "awful", "dull", "terrible", "weak", "poor", "predictable"),  # negative
    ("good", "great", "fun", "brilliant", "moving", "funny", "excellent", "enjoyable"),  # positive
)
_NEGATIONS = ("not", "never")


class SyntheticSentiment(Dataset):
    """Short generated reviews whose label depends on word order: fast tests for classifiers.

    A clause is ``<subject> <was|is> [not|never] [very|really|quite] <adjective>``; its sentiment
    is the adjective's, flipped by a negation ("not good" is negative, "never boring" positive).
    Half of the reviews are two clauses of opposite sentiment joined by "but"; the label is the
    second clause's ("the plot was dull but the acting was great" is positive). Negation makes
    the label an XOR of words, so a linear bag-of-words classifier stays at chance (about 50% on
    held-out reviews when we measured it), while a small GRU reaches 100% within two epochs of
    4,000 reviews.

    Items are ``(text, label)``, label 0 (negative) or 1 (positive), exactly balanced when ``n``
    is even; ``.texts``, ``.labels`` are the lists. About 40 distinct words.
    """

    def __init__(self, n: int, *, seed: int = 0) -> None:
        rng = random.Random(seed)
        labels = [i % 2 for i in range(n)]
        rng.shuffle(labels)
        self.labels: list[int] = labels
        self.texts: list[str] = []
        for label in labels:
            text = self._clause(rng, label)
            if rng.random() < 0.5:
                text = f"{self._clause(rng, 1 - label)} but {text}"
            self.texts.append(text)

    @staticmethod
    def _clause(rng: random.Random, sentiment: int) -> str:
        negated = rng.random() < 0.5
        adjective = rng.choice(_ADJECTIVES[sentiment ^ int(negated)])
        words = [rng.choice(_SUBJECTS), rng.choice(_VERBS)]
        if negated:
            words.append(rng.choice(_NEGATIONS))
        words.append(rng.choice(_INTENSIFIERS))
        words.append(adjective)
        return " ".join(w for w in words if w)

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, index: int) -> tuple[str, int]:
        return self.texts[index], self.labels[index]
