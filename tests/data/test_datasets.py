"""The real datasets, from the offline mirror.

The mirror is ``$RNNCOURSE_MIRROR`` when set, else ``../shared/data`` beside the repository (CI
has it); without either these tests skip. Everything is fetched ONCE per test session into a
temporary cache (the user's own cache is never touched); every test then reads that cache with
the mirror unset and the network disabled, which also proves that a second call needs neither.
"""

from __future__ import annotations

import importlib
import re
import time
from pathlib import Path

import pytest
import torch

from conftest import mirror_dir
from rnncourse import cli
from rnncourse.data import IMDB, EnglishFrench, TinyShakespeare, download
from rnncourse.data import imdb as imdb_files

dl = importlib.import_module("rnncourse.data.download")
fetch = importlib.import_module("rnncourse.data.fetch")  # where the network is opened

# Every test here needs the session cache, whose download and parsing take about a minute.
pytestmark = pytest.mark.slow

# All tests here share the one session cache; `--dist loadfile` (pyproject.toml) keeps them on one worker.

MIRROR = mirror_dir()


def no_network(url):
    raise AssertionError(f"the cache should have served this; the test tried to open {url}")


@pytest.fixture(scope="session")
def real_cache(tmp_path_factory) -> Path:
    if MIRROR is None:
        pytest.skip(
            "no data mirror: set RNNCOURSE_MIRROR to a folder holding the course's datasets, or put "
            "them in ../shared/data beside the repository, to run the real-data tests"
        )
    folder = tmp_path_factory.mktemp("rnncourse-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNCOURSE_DATA", str(folder))
        mp.setenv("RNNCOURSE_MIRROR", str(MIRROR))
        for name in dl.SOURCES:
            download(name, quiet=True)
        imdb_files.prepare_imdb()
    return folder


@pytest.fixture
def cached(real_cache, monkeypatch) -> Path:
    """The session cache, with no mirror and no network."""
    monkeypatch.setenv("RNNCOURSE_DATA", str(real_cache))
    monkeypatch.delenv("RNNCOURSE_MIRROR", raising=False)
    monkeypatch.setattr(fetch, "_open_url", no_network)
    return real_cache


# ---------------------------------------------------------------------------------------------
# Downloads and the command
# ---------------------------------------------------------------------------------------------


def test_second_download_is_served_from_the_cache(cached):
    start = time.perf_counter()
    paths = {name: download(name) for name in ("imdb", "shakespeare", "fra-eng")}
    assert time.perf_counter() - start < 1.0
    assert paths["imdb"] == cached / "imdb" / "aclImdb" and (paths["imdb"] / "train" / "pos").is_dir()
    assert paths["shakespeare"].name == "tinyshakespeare.txt" and paths["fra-eng"].name == "fra.txt"
    assert not [p for p in cached.rglob(".*") if p.name.endswith((".part", ".tmp"))]


def test_download_all_command_from_the_cache(cached, capsys):
    assert cli.main(["download", "all"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"imdb: {cached / 'imdb' / 'aclImdb'}",
        f"shakespeare: {cached / 'shakespeare' / 'tinyshakespeare.txt'}",
        f"fra-eng: {cached / 'fra-eng' / 'fra-eng' / 'fra.txt'}",
    ]
    assert captured.err == ""


# ---------------------------------------------------------------------------------------------
# IMDB
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imdb_splits(real_cache):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNCOURSE_DATA", str(real_cache))
        mp.setattr(fetch, "_open_url", no_network)
        return {split: IMDB(split) for split in ("train", "valid", "test")}


def test_imdb_has_25000_train_and_25000_test_reviews_balanced(imdb_splits):
    train, valid, test = imdb_splits["train"], imdb_splits["valid"], imdb_splits["test"]
    assert len(train) + len(valid) == 25_000 and len(test) == 25_000
    assert len(valid) == 2_500
    assert sum(train.labels) + sum(valid.labels) == 12_500 and sum(test.labels) == 12_500
    assert sum(valid.labels) == 1_250
    text, label = train[0]
    assert isinstance(text, str) and label in (0, 1)


def test_imdb_labels_agree_with_ratings(imdb_splits):
    for data in imdb_splits.values():
        assert all((r >= 7) == bool(y) and (r <= 4) == (not y) for r, y in zip(data.ratings, data.labels))


def test_imdb_text_is_cleaned_of_html(imdb_splits):
    train = imdb_splits["train"]
    assert not any("<br" in t.lower() or "  " in t for t in train.texts)
    assert sum("<br" in t for t in IMDB("valid", clean=False).texts) > 1000


def test_imdb_validation_split_is_by_movie_and_reproducible(cached):
    records = imdb_files.load_split(download("imdb"), "train")
    train, valid = imdb_files.movie_split(records["labels"], records["movies"], 0.1, seed=0)
    assert sorted(train + valid) == list(range(25_000))
    assert not {records["movies"][i] for i in train} & {records["movies"][i] for i in valid}
    assert imdb_files.movie_split(records["labels"], records["movies"], 0.1, seed=0) == (train, valid)
    other = imdb_files.movie_split(records["labels"], records["movies"], 0.1, seed=1)[1]
    assert set(other) != set(valid)


def test_imdb_limit_is_balanced_and_deterministic(cached):
    small = IMDB("train", limit=101)
    assert len(small) == 101 and sum(small.labels) == 51
    assert IMDB("train", limit=101).texts == small.texts
    assert set(small.texts) <= set(IMDB("train").texts)


def test_imdb_rejects_unknown_split(cached):
    with pytest.raises(ValueError, match="'train', 'valid' or 'test'"):
        IMDB("validation")


# ---------------------------------------------------------------------------------------------
# tiny-shakespeare
# ---------------------------------------------------------------------------------------------


def test_shakespeare_vocabulary_and_split_by_position(cached):
    train, valid = TinyShakespeare("train"), TinyShakespeare("valid")
    assert len(train.text) + len(valid.text) == 1_115_394
    assert len(train.text) == int(1_115_394 * 0.9)
    assert train.text.startswith("First Citizen:")
    assert train.chars == valid.chars and train.vocab_size == 65
    assert train.decode(train.data) == train.text and valid.decode(valid.data) == valid.text
    assert train.data.dtype == torch.int64 and train.data.shape == (len(train.text),)
    assert train.decode(train.encode("To be, or not")) == "To be, or not"
    with pytest.raises(KeyError, match="not among tiny-shakespeare's 65 characters"):
        train.encode("café")


def test_shakespeare_windows(cached):
    data = TinyShakespeare("valid", seq_len=64)
    assert len(data) == (len(data.data) - 65) // 64 + 1
    x, y = data[len(data) - 1]
    assert x.shape == y.shape == (64,)
    assert torch.equal(x[1:], y[:-1])
    sliding = TinyShakespeare("valid", seq_len=64, stride=1)
    assert len(sliding) == len(sliding.data) - 64
    assert torch.equal(sliding[3][0], data.data[3:67])


# ---------------------------------------------------------------------------------------------
# English-French
# ---------------------------------------------------------------------------------------------


def test_english_french_pairs_are_normalised(cached):
    pairs = EnglishFrench()
    assert len(pairs) == 142_787
    assert pairs[0] == ("go .", "va !")
    assert all(re.fullmatch(r"[a-z0-9.!?,' ]+", e) and re.fullmatch(r"[a-z0-9.!?,' ]+", f) for e, f in pairs.pairs)
    assert ("i'm cold .", "j'ai froid .") in pairs.pairs


def test_english_french_filters(cached):
    short = EnglishFrench(max_len=5, prefixes=("i am ", "i'm ", "he is ", "he's "))
    assert 0 < len(short) < 20_000
    assert all(len(e.split()) <= 5 and len(f.split()) <= 5 for e, f in short)
    assert all(e.startswith(("i am ", "i'm ", "he is ", "he's ")) for e, _ in short)
    sample = EnglishFrench(max_len=5, prefixes=("i am ", "i'm ", "he is ", "he's "), limit=100, seed=1)
    assert len(sample) == 100 and set(sample.pairs) <= set(short.pairs)
