"""Generated tasks: structure, reproducibility from a seed, and labels checked independently."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest
import torch

from rnncourse.data import AddingProblem, CopyTask, DateNormalization, SyntheticSentiment

# ---------------------------------------------------------------------------------------------
# Dates: every source parsed back by an independent parser (strptime) must give the target
# ---------------------------------------------------------------------------------------------

STRPTIME_FORMS = [
    "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%B %d, %y", "%b %d %Y", "%a, %b %d %Y", "%A, %B %d, %Y",
    "%m/%d/%Y", "%m/%d/%y", "%d.%m.%Y", "%d.%m.%y", "the %d of %B %Y", "%Y-%m-%d",
]


def parse_date(text: str) -> dt.date:
    """Parse one of the surface forms with ``strptime``; two-digit years mean 1950-2049."""
    text = re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", text)  # ordinals: strptime has none
    for form in STRPTIME_FORMS:
        try:
            date = dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
        if "%y" in form:  # strptime's own pivot is 1969; the dataset's is 1950
            date = date.replace(year=1900 + date.year % 100 if date.year % 100 >= 50 else 2000 + date.year % 100)
        if "%a" in form or "%A" in form:  # strptime ignores the weekday; the dataset must not lie
            assert text.startswith(date.strftime("%a")), f"{text!r} names the wrong weekday"
        return date
    raise AssertionError(f"no form parses {text!r}")


def test_date_sources_parse_back_to_their_targets():
    data = DateNormalization(3000, seed=3)
    assert len(data) == 3000
    for source, target in data:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", target)
        assert parse_date(source).isoformat() == target, (source, target)


def test_dates_cover_every_form_and_the_whole_range():
    data = DateNormalization(4000, seed=0)
    shapes = {re.sub(r"[A-Za-z]+", "A", re.sub(r"\d", "9", s)) for s in data.sources}
    assert len(shapes) >= 12  # 16 forms; a few share a shape once letters and digits are masked
    years = [int(t[:4]) for t in data.targets]
    assert min(years) < 1955 and max(years) > 2044
    assert all(1950 <= y <= 2049 for y in years)


def test_dates_are_reproducible_from_the_seed():
    assert DateNormalization(50, seed=7).sources == DateNormalization(50, seed=7).sources
    assert DateNormalization(50, seed=7).sources != DateNormalization(50, seed=8).sources


# ---------------------------------------------------------------------------------------------
# Adding problem and copy task
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seq_len", [2, 3, 50])
def test_adding_problem_structure(seq_len):
    data = AddingProblem(200, seq_len, seed=1)
    x, y = data[0]
    assert x.shape == (seq_len, 2) and x.dtype == torch.float32
    assert y.shape == () and y.dtype == torch.float32
    assert len(data) == 200
    markers = data.x[..., 1]
    assert torch.all(markers.sum(1) == 2)
    half = seq_len // 2
    assert torch.all(markers[:, :half].sum(1) == 1) and torch.all(markers[:, half:].sum(1) == 1)
    assert torch.allclose((data.x[..., 0] * markers).sum(1), data.y)
    assert torch.all((data.x[..., 0] >= 0) & (data.x[..., 0] < 1))


def test_adding_problem_constant_guess_has_mse_one_sixth():
    data = AddingProblem(20_000, 20, seed=0)
    assert abs(((data.y - 1.0) ** 2).mean().item() - 1 / 6) < 0.01


def test_adding_problem_is_reproducible_from_the_seed():
    assert torch.equal(AddingProblem(10, 8, seed=4).x, AddingProblem(10, 8, seed=4).x)
    assert not torch.equal(AddingProblem(10, 8, seed=4).x, AddingProblem(10, 8, seed=5).x)
    with pytest.raises(ValueError, match="at least 2"):
        AddingProblem(10, 1)


@pytest.mark.parametrize("seq_len, delay", [(1, 1), (10, 20), (5, 100)])
def test_copy_task_structure(seq_len, delay):
    data = CopyTask(100, seq_len, delay=delay, n_symbols=8, seed=2)
    total = 2 * seq_len + delay
    x, y = data[3]
    assert x.shape == y.shape == (total,) and x.dtype == y.dtype == torch.long
    assert data.vocab_size == 10 and data.blank == 0 and data.delimiter == 9
    symbols = data.x[:, :seq_len]
    assert torch.all((symbols >= 1) & (symbols <= 8))
    assert torch.all(data.x[:, seq_len : seq_len + delay - 1] == 0)
    assert torch.all(data.x[:, seq_len + delay - 1] == data.delimiter)
    assert torch.all(data.x[:, seq_len + delay :] == 0)
    assert torch.all(data.y[:, : seq_len + delay] == 0)
    assert torch.equal(data.y[:, seq_len + delay :], symbols)


def test_copy_task_baseline_is_the_memoryless_cross_entropy():
    """Blanks until the delimiter, then uniform guesses: the loss ``.baseline_loss`` states."""
    seq_len, delay, k = 10, 30, 8
    data = CopyTask(500, seq_len, delay=delay, n_symbols=k)
    logits = torch.full((data.vocab_size,), -1e9)
    logits[0] = 0.0
    blank_guess = logits.clone()
    uniform = torch.full((data.vocab_size,), -1e9)
    uniform[1 : k + 1] = 0.0
    per_step = torch.stack([blank_guess] * (seq_len + delay) + [uniform] * seq_len)
    loss = torch.nn.functional.cross_entropy(per_step.repeat(len(data), 1), data.y.flatten())
    assert math.isclose(loss.item(), data.baseline_loss, rel_tol=1e-5)


# ---------------------------------------------------------------------------------------------
# Synthetic sentiment
# ---------------------------------------------------------------------------------------------

POSITIVE = {"good", "great", "fun", "brilliant", "moving", "funny", "excellent", "enjoyable"}
NEGATIVE = {"bad", "boring", "awful", "dull", "terrible", "weak", "poor", "predictable"}


def expected_label(text: str) -> int:
    """The label by the stated rule: the last clause decides; negation flips its adjective."""
    words = text.split(" but ")[-1].split()
    adjective = words[-1]
    assert adjective in POSITIVE | NEGATIVE, text
    return int((adjective in POSITIVE) != ("not" in words or "never" in words))


def test_sentiment_labels_follow_the_negation_rule():
    data = SyntheticSentiment(2000, seed=5)
    assert [expected_label(t) for t in data.texts] == data.labels
    assert any(" but " in t for t in data.texts) and any(" not " in t for t in data.texts)


def test_sentiment_is_balanced_and_reproducible():
    data = SyntheticSentiment(1001, seed=0)
    assert len(data) == 1001 and sum(data.labels) in (500, 501)
    assert data[0] == (data.texts[0], data.labels[0])
    assert SyntheticSentiment(30, seed=2).texts == SyntheticSentiment(30, seed=2).texts
    assert SyntheticSentiment(30, seed=2).texts != SyntheticSentiment(30, seed=3).texts


def test_sentiment_word_order_decides_the_label():
    """The same words in another order can carry the other label: "X but Y" against "Y but X"."""
    data = SyntheticSentiment(500, seed=1)
    for text, label in data:
        if " but " in text:
            first, second = text.split(" but ")
            assert expected_label(f"{second} but {first}") == 1 - label
