"""rnncourse.nn.padded: a padded run gives a packed run's outputs, final states and gradients."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse.nn.padded import final_states, reverse_within_length, run_padded


def test_reverse_within_length_keeps_the_padding_in_place_and_undoes_itself():
    x = torch.tensor([[1, 2, 3, 4], [1, 2, 0, 0], [7, 0, 0, 0]], dtype=torch.float32)[..., None]
    lengths = torch.tensor([4, 2, 1])
    flipped = reverse_within_length(x, lengths)
    assert flipped[..., 0].tolist() == [[4, 3, 2, 1], [2, 1, 0, 0], [7, 0, 0, 0]]
    assert torch.equal(reverse_within_length(flipped, lengths), x)


def _packed(rnn, x, lengths):
    out, h_n = rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
    return out, (h_n[0] if isinstance(h_n, tuple) else h_n)


@pytest.mark.parametrize("cell", [nn.RNN, nn.GRU, nn.LSTM])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_run_equals_packed_run(cell, layers, bidirectional):
    torch.manual_seed(0)
    rnn = cell(6, 5, num_layers=layers, batch_first=True, bidirectional=bidirectional)
    lengths = torch.tensor([9, 3, 7, 1, 9])
    x = torch.randn(5, 9, 6)
    x = x.masked_fill(torch.arange(9)[None, :, None] >= lengths[:, None, None], 123.0)  # loud padding
    real = (torch.arange(9)[None, :] < lengths[:, None])[..., None]
    directions = 2 if bidirectional else 1
    weights = torch.randn(directions * 5)  # a loss that reads every feature differently

    results = []
    for route in ("packed", "padded"):
        rnn.zero_grad()
        if route == "packed":
            out, h_n = _packed(rnn, x, lengths)
            final = torch.cat(list(h_n[-directions:]), dim=1)
        else:
            out = run_padded(rnn, x, lengths)
            final = final_states(out, lengths, directions)
        out = out.masked_fill(~real, 0.0)
        ((out * weights).sum() + (final * weights).sum()).backward()
        results.append((out.detach(), final.detach(), [p.grad.clone() for p in rnn.parameters()]))
    (out_a, final_a, grads_a), (out_b, final_b, grads_b) = results
    torch.testing.assert_close(out_b, out_a, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(final_b, final_a, rtol=1e-5, atol=1e-5)
    for ga, gb in zip(grads_a, grads_b):
        torch.testing.assert_close(gb, ga, rtol=1e-4, atol=1e-4)


def test_dropout_between_layers_follows_the_training_mode():
    torch.manual_seed(0)
    rnn = nn.LSTM(4, 3, num_layers=2, batch_first=True, bidirectional=True, dropout=0.5)
    x, lengths = torch.randn(2, 6, 4), torch.tensor([6, 4])
    rnn.eval()
    torch.testing.assert_close(run_padded(rnn, x, lengths), run_padded(rnn, x, lengths))
    rnn.train()
    assert not torch.allclose(run_padded(rnn, x, lengths), run_padded(rnn, x, lengths))


def test_bad_input_is_refused_in_plain_words():
    rnn = nn.LSTM(4, 3, batch_first=True, bidirectional=True)
    with pytest.raises(ValueError, match="batch_first=True"):
        run_padded(nn.LSTM(4, 3, bidirectional=True), torch.randn(2, 5, 4), torch.tensor([5, 2]))
    with pytest.raises(ValueError, match="between 1 and seq_len=5"):
        run_padded(rnn, torch.randn(2, 5, 4), torch.tensor([6, 2]))
    with pytest.raises(ValueError, match="one length per sequence"):
        reverse_within_length(torch.randn(2, 5, 4), torch.tensor([5]))
    with pytest.raises(ValueError, match="directions must be 1 or 2"):
        final_states(torch.randn(2, 5, 6), torch.tensor([5, 2]), 3)
