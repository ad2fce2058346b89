"""rnncourse.nn.lm_metrics: the windowed loss, the hidden-unit correlations and sample diversity."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnncourse.nn.gpt import GPT, GPTConfig
from rnncourse.nn.language_model import CharLM
from rnncourse.nn.lm_metrics import (distinct_n, hidden_activations, ngrams_in, text_features,
                                     unit_correlations, window_batches, windowed_loss)


def _by_hand(model, ids, window):
    """Each window alone, from a zero state, every position scored once."""
    total = 0.0
    for s in range(0, len(ids) - 1, window):
        part = ids[s:s + window + 1]
        out = model(part[:-1].unsqueeze(0))
        logits = out[0] if isinstance(out, tuple) else out
        total += F.cross_entropy(logits[0], part[1:], reduction="sum").item()
    return total / (len(ids) - 1)


@pytest.mark.parametrize("n, window", [(101, 10), (257, 64), (50, 7), (30, 100)])
def test_windowed_loss_scores_every_position_once_from_zeros(n, window):
    torch.manual_seed(0)
    model = CharLM(11, 8, 16, num_layers=2).eval()
    ids = torch.randint(0, 11, (n,))
    with torch.no_grad():
        expected = _by_hand(model, ids, window)
        carried = F.cross_entropy(model(ids[:-1].unsqueeze(0))[0][0], ids[1:]).item()
    assert windowed_loss(model, ids, window, batch_size=3) == pytest.approx(expected, rel=1e-5)
    if window >= n - 1:                                   # one window: the carried-state loss
        assert windowed_loss(model, ids, window) == pytest.approx(carried, rel=1e-5)
    else:                                                 # restarting from zeros changes the figure
        assert windowed_loss(model, ids, window) != pytest.approx(carried, rel=1e-6)


@pytest.mark.parametrize("n, window, batch_size", [(101, 10, 3), (65, 64, 64), (21, 4, 1), (30, 100, 2)])
def test_window_batches_cover_every_position_once(n, window, batch_size):
    ids = torch.arange(n)
    batches = window_batches(ids, window, batch_size)
    x = torch.cat([b[0].flatten() for b in batches])
    y = torch.cat([b[1].flatten() for b in batches])
    assert torch.equal(x, ids[:-1]) and torch.equal(y, ids[1:])      # every position once, in order
    assert all(b[0].shape == b[1].shape and b[0].shape[0] <= batch_size for b in batches)
    starts = torch.cat([b[0][:, 0] for b in batches])
    assert torch.equal(starts, torch.arange(0, n - 1, window))         # each window starts anew
    with pytest.raises(ValueError, match="at least 2 ids"):
        window_batches(ids[:1], window)


def test_windowed_loss_takes_a_gpt_and_keeps_its_mode():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=9, context=8, n_layer=1, n_head=2, n_embd=8))
    ids = torch.randint(0, 9, (45,))
    with torch.no_grad():
        expected = _by_hand(model.eval(), ids, 8)
    model.train()
    assert windowed_loss(model, ids, 8) == pytest.approx(expected, rel=1e-5)
    assert model.training
    untrained = CharLM(9, 4, 4)
    torch.nn.init.zeros_(untrained.head.weight)
    torch.nn.init.zeros_(untrained.head.bias)                # uniform scores: log 9 nats
    assert windowed_loss(untrained, ids, 5) == pytest.approx(math.log(9), rel=1e-6)
    with pytest.raises(ValueError, match="window"):
        windowed_loss(model, ids, 0)
    with pytest.raises(ValueError, match="context"):         # windows longer than the GPT reads
        windowed_loss(model, ids, 16)


def test_hidden_activations_carry_the_state_across_chunks():
    torch.manual_seed(0)
    model = CharLM(7, 5, 6, num_layers=2)
    ids = torch.randint(0, 7, (53,))
    acts = hidden_activations(model, ids, chunk=10)
    with torch.no_grad():
        whole, _ = model.rnn(model.embed(ids.unsqueeze(0)))
    assert acts.shape == (53, 6)
    assert np.allclose(acts, whole[0].numpy(), atol=1e-5)


def test_unit_correlations_find_the_unit_that_tracks_a_feature():
    rng = np.random.default_rng(0)
    feature = rng.normal(size=500)
    acts = rng.normal(size=(500, 4))
    acts[:, 1] = 3 * feature + 0.1 * rng.normal(size=500)      # tracks it
    acts[:, 2] = -feature                                      # tracks it, inverted
    acts[:, 3] = 7.0                                           # constant: no correlation
    r = unit_correlations(acts, feature)
    assert r.shape == (4,)
    assert r[1] > 0.99 and r[2] == pytest.approx(-1.0) and r[3] == 0.0 and abs(r[0]) < 0.15
    assert np.allclose(r[:3], [np.corrcoef(acts[:, j], feature)[0, 1] for j in range(3)])
    with pytest.raises(ValueError, match=r"\(N, H\)"):
        unit_correlations(acts, feature[:-1])


def test_text_features_mark_lines_speakers_speeches_and_words():
    text = "ROMEO:\nHe sighs,\nand goes.\n\nJULIET:\nO!"
    f = text_features(text)
    assert all(len(v) == len(text) for v in f.values())
    assert f["position in the line"][[0, 6, 7, 8]].tolist() == [0, 6, 0, 1]
    names = [i for i, v in enumerate(f["in a speaker's name"]) if v]
    assert "".join(text[i] for i in names) == "ROMEO:\nJULIET:\n"
    assert f["line of the speech"][[0, 7, 17, 27, 29, 37]].tolist() == [0, 1, 2, 3, 0, 1]
    assert f["position in the word"][[7, 8, 9]].tolist() == [1, 2, 0]


def test_sample_diversity():
    assert distinct_n("a b a b a b", 1) == pytest.approx(2 / 6)
    assert distinct_n("a b a b a b", 2) == pytest.approx(2 / 5)
    assert distinct_n("to be or not to be", 2) == pytest.approx(4 / 5)
    assert distinct_n("one", 2) == 0.0
    assert ngrams_in("to be or not", "whether to be or", 2) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="at least 1"):
        distinct_n("a b", 0)
