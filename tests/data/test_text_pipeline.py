"""Tokenizer, vocabulary, padding collate and length-bucketing sampler."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence
from torch.utils.data import DataLoader

import rnncourse.data
from rnncourse.data import BucketBatchSampler, Vocab, pad_collate, tokenize

# ---------------------------------------------------------------------------------------------
# Package surface
# ---------------------------------------------------------------------------------------------


def test_every_public_name_resolves():
    for name in rnncourse.data.__all__:
        assert getattr(rnncourse.data, name) is not None, name
    assert callable(rnncourse.data.download)  # the function, not the submodule of that name


# ---------------------------------------------------------------------------------------------
# tokenize
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("It's GREAT!<br />Not bad... 9/10", ["it's", "great", "!", "not", "bad", ".", ".", ".", "9", "/", "10"]),
        ("Don't   watch (it).", ["don't", "watch", "(", "it", ")", "."]),
        ('"Quoted"; colon: end', ['"', "quoted", '"', ";", "colon", ":", "end"]),
        ("Amélie<br/>was CHARMING", ["amélie", "was", "charming"]),
        ("", []),
    ],
)
def test_tokenize(text, tokens):
    assert tokenize(text) == tokens


# ---------------------------------------------------------------------------------------------
# Vocab
# ---------------------------------------------------------------------------------------------

CORPUS = [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "cat"], ["a", "bird"]]


def test_vocab_order_specials_then_frequency_then_alphabet():
    vocab = Vocab.build(CORPUS)
    assert vocab.itos == ["<pad>", "<unk>", "the", "cat", "sat", "a", "bird", "dog"]
    assert vocab.pad_index == 0 and vocab.unk_index == 1
    assert vocab.stoi == {t: i for i, t in enumerate(vocab.itos)}
    assert len(vocab) == 8 and "cat" in vocab and "fish" not in vocab


def test_vocab_min_freq_and_max_size_count_specials():
    assert Vocab.build(CORPUS, min_freq=2).itos == ["<pad>", "<unk>", "the", "cat", "sat"]
    assert Vocab.build(CORPUS, max_size=4).itos == ["<pad>", "<unk>", "the", "cat"]
    with pytest.raises(ValueError, match="no room"):
        Vocab.build(CORPUS, max_size=1)


def test_vocab_reads_a_generator_once_and_rejects_plain_strings():
    vocab = Vocab.build(t.split() for t in ["a b", "b c"])
    assert vocab.itos == ["<pad>", "<unk>", "b", "a", "c"]
    with pytest.raises(TypeError, match="tokenize it first"):
        Vocab.build(["a b", "b c"])


def test_vocab_lookup_encode_decode():
    vocab = Vocab.build(CORPUS)
    assert vocab["cat"] == 3 and vocab["unicorn"] == vocab.unk_index
    assert vocab.encode(["the", "unicorn", "sat"]) == [2, 1, 4]
    assert vocab.encode(["the", "cat", "sat", "the"], max_len=2) == [2, 3]
    assert vocab.decode([2, 3, 0]) == ["the", "cat", "<pad>"]
    assert vocab.decode(torch.tensor([4, 1])) == ["sat", "<unk>"]


def test_vocab_with_more_specials_and_without_unk():
    seq2seq = Vocab.build(CORPUS, specials=("<pad>", "<unk>", "<sos>", "<eos>"))
    assert seq2seq.itos[:4] == ["<pad>", "<unk>", "<sos>", "<eos>"] and seq2seq["<eos>"] == 3
    closed = Vocab.build(CORPUS, specials=("<pad>",))
    assert closed.unk_index is None
    with pytest.raises(KeyError, match="no '<unk>' token"):
        closed["unicorn"]
    with pytest.raises(ValueError, match="must be the first token"):
        Vocab.build(CORPUS, specials=("<unk>", "<pad>"))


def test_vocab_round_trip_through_json(tmp_path):
    vocab = Vocab.build([tokenize("Ça va? Très bien, merci!")] + CORPUS, specials=("<pad>", "<unk>", "<eos>"))
    path = tmp_path / "vocab.json"
    vocab.save(path)
    loaded = Vocab.load(path)
    assert loaded == vocab and loaded.itos == vocab.itos and loaded.stoi == vocab.stoi
    assert (loaded.pad_index, loaded.unk_index) == (vocab.pad_index, vocab.unk_index)
    tokens = tokenize("très bien, unknown word")
    assert loaded.encode(tokens) == vocab.encode(tokens)
    assert json.loads(path.read_text(encoding="utf-8"))["itos"][3] == vocab.itos[3]


def test_vocab_load_rejects_other_json(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"hello": 1}))
    with pytest.raises(ValueError, match="not a vocabulary saved by Vocab.save"):
        Vocab.load(path)


# ---------------------------------------------------------------------------------------------
# pad_collate
# ---------------------------------------------------------------------------------------------


def test_pad_collate_shapes_values_lengths_and_dtypes():
    batch = [([5, 6, 7], 1), (torch.tensor([8]), 0), ([9, 10], 1)]
    padded, labels, lengths = pad_collate(batch)
    assert torch.equal(padded, torch.tensor([[5, 6, 7], [8, 0, 0], [9, 10, 0]]))
    assert padded.dtype == torch.int64
    assert torch.equal(labels, torch.tensor([1, 0, 1])) and labels.dtype == torch.int64
    assert torch.equal(lengths, torch.tensor([3, 1, 2]))
    assert lengths.dtype == torch.int64 and lengths.device.type == "cpu"


def test_pad_collate_pad_index_float_labels_and_time_first():
    padded, labels, lengths = pad_collate([([1, 2], 0.5), ([3], 2.0)], pad_index=7, batch_first=False)
    assert torch.equal(padded, torch.tensor([[1, 3], [2, 7]]))  # (max_len, batch)
    assert labels.dtype == torch.float32 and torch.equal(labels, torch.tensor([0.5, 2.0]))
    assert torch.equal(lengths, torch.tensor([2, 1]))


def test_pad_collate_pads_per_step_labels_with_the_ignore_value():
    padded, tags, lengths = pad_collate([([1, 2, 3], [4, 5, 6]), ([7], [8])])
    assert torch.equal(tags, torch.tensor([[4, 5, 6], [8, -100, -100]])) and tags.dtype == torch.int64
    loss = nn.CrossEntropyLoss()(torch.zeros(2, 3, 9).flatten(0, 1), tags.flatten())
    assert torch.isclose(loss, torch.log(torch.tensor(9.0)))  # the padded steps do not count


def test_pad_collate_feature_sequences():
    padded, _, lengths = pad_collate([(torch.ones(4, 2), 1.0), (torch.ones(2, 2), 0.0)])
    assert padded.shape == (2, 4, 2) and padded.dtype == torch.float32
    assert padded[1, 2:].abs().sum() == 0 and torch.equal(lengths, torch.tensor([4, 2]))


def test_pad_collate_rejects_empty_sequences():
    with pytest.raises(ValueError, match=r"examples \[1\] of the batch are empty"):
        pad_collate([([1], 0), ([], 1)])


def test_collated_batch_packs_and_gives_each_sequence_its_own_last_state():
    """The whole point of the lengths: packed GRU states equal running each sequence alone."""
    torch.manual_seed(0)
    embed, gru = nn.Embedding(20, 4, padding_idx=0), nn.GRU(4, 5, batch_first=True)
    sequences = [[3, 4, 5, 6], [7], [8, 9]]
    padded, _, lengths = pad_collate([(s, 0) for s in sequences])
    packed = pack_padded_sequence(embed(padded), lengths, batch_first=True, enforce_sorted=False)
    _, h_n = gru(packed)
    for i, s in enumerate(sequences):
        _, alone = gru(embed(torch.tensor([s])))
        assert torch.allclose(h_n[0, i], alone[0, 0], atol=1e-6)


# ---------------------------------------------------------------------------------------------
# BucketBatchSampler
# ---------------------------------------------------------------------------------------------


def lengths_of(n: int, seed: int = 0) -> list[int]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(1, 400, (n,), generator=g).tolist()


@pytest.mark.parametrize("n, batch_size, multiplier", [(1000, 32, 50), (1000, 32, 3), (97, 10, 2), (5, 8, 50)])
def test_bucketing_yields_every_example_exactly_once_per_epoch(n, batch_size, multiplier):
    sampler = BucketBatchSampler(lengths_of(n), batch_size, bucket_size_multiplier=multiplier)
    for epoch in range(3):
        batches = list(sampler)
        assert len(batches) == len(sampler)
        assert sorted(i for b in batches for i in b) == list(range(n)), f"epoch {epoch}"
        assert all(1 <= len(b) <= batch_size for b in batches)
        assert sum(len(b) < batch_size for b in batches) <= 1


def test_bucketing_drop_last_leaves_out_only_the_short_batch():
    sampler = BucketBatchSampler(lengths_of(100), 32, drop_last=True, bucket_size_multiplier=2)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 3
    assert all(len(b) == 32 for b in batches)
    assert len(set(i for b in batches for i in b)) == 96


def test_bucketing_reduces_padding():
    lengths = lengths_of(3000)
    sampler = BucketBatchSampler(lengths, 32)

    def padding(batches):
        return sum(max(lengths[i] for i in b) * len(b) - sum(lengths[i] for i in b) for b in batches)

    shuffled = torch.randperm(3000, generator=torch.Generator().manual_seed(0)).split(32)
    assert padding(list(sampler)) < 0.1 * padding([b.tolist() for b in shuffled])


def test_bucketing_epochs_are_reproducible_and_differ():
    a = BucketBatchSampler(lengths_of(500), 16, seed=3)
    b = BucketBatchSampler(lengths_of(500), 16, seed=3)
    first, second = list(a), list(a)  # two passes advance the epoch by themselves
    assert first != second
    b.set_epoch(1)
    assert list(b) == second
    b.set_epoch(0)
    assert list(b) == first
    assert list(BucketBatchSampler(lengths_of(500), 16, seed=4)) != first


def test_bucketing_without_shuffle_sorts_by_length():
    lengths = lengths_of(200)
    order = [i for b in BucketBatchSampler(lengths, 16, shuffle=False) for i in b]
    assert [lengths[i] for i in order] == sorted(lengths)


def test_sampler_and_collate_in_a_dataloader():
    data = [(list(range(1, n + 1)), n % 2) for n in lengths_of(300)]
    loader = DataLoader(data, batch_sampler=BucketBatchSampler([len(x) for x, _ in data], 8), collate_fn=pad_collate)
    seen = Counter()
    for padded, labels, lengths in loader:
        assert padded.shape == (len(labels), int(lengths.max()))
        assert torch.equal((padded != 0).sum(1), lengths)
        seen.update(lengths.tolist())
    assert seen == Counter(len(x) for x, _ in data)
