"""minGRU and minLSTM: the parallel mode equals the sequential one (float64), the equations hold,
and the language model fits chapter 7's training step and generator."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnncourse.nn.language_model import generate
from rnncourse.nn.minrnn import MinGRU, MinLSTM, MinRNNBlock, MinRNNLM, g, log_g


def layer(kind, D, H, seed):
    torch.manual_seed(seed)
    return (MinGRU if kind == "gru" else MinLSTM)(D, H).double()


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_parallel_equals_sequential_in_value_and_gradient(kind):
    cell = layer(kind, 4, 5, seed=0)
    x = torch.randn(3, 17, 4, dtype=torch.float64, requires_grad=True)
    h0 = torch.rand(3, 5, dtype=torch.float64) + 0.1
    outs = {mode: cell(x, h0, mode=mode) for mode in ("parallel", "sequential")}
    torch.testing.assert_close(outs["parallel"][0], outs["sequential"][0], rtol=1e-12, atol=1e-14)
    assert all(torch.equal(h[:, -1], last) for h, last in outs.values())
    w = torch.randn(3, 17, 5, dtype=torch.float64)
    grads = [torch.autograd.grad((outs[m][0] * w).sum(), [x, *cell.parameters()]) for m in outs]
    for got, expected in zip(*grads):
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_parallel_equals_sequential_at_ten_thousand_steps_in_float64(kind):
    cell = layer(kind, 3, 4, seed=1)
    x = torch.randn(2, 10_000, 3, dtype=torch.float64)
    with torch.no_grad():
        parallel, _ = cell(x, mode="parallel")
        sequential, _ = cell(x, mode="sequential")
    torch.testing.assert_close(parallel, sequential, rtol=1e-11, atol=1e-13)


def test_mingru_follows_its_equations():
    cell = layer("gru", 2, 3, seed=2)
    x = torch.randn(1, 4, 2, dtype=torch.float64)
    W, bias = cell.linear.weight, cell.linear.bias
    h = torch.zeros(1, 3, dtype=torch.float64)
    for t in range(4):
        pre = x[:, t] @ W.T + bias
        z, v = torch.sigmoid(pre[:, :3]), pre[:, 3:]
        h = (1 - z) * h + z * torch.where(v >= 0, v + 0.5, torch.sigmoid(v))
    out, last = cell(x)
    torch.testing.assert_close(last, h, rtol=1e-12, atol=1e-14)


def test_minlstm_normalises_its_gates():
    cell = layer("lstm", 2, 3, seed=3)
    x = torch.randn(1, 1, 2, dtype=torch.float64)
    h0 = torch.rand(1, 3, dtype=torch.float64)
    kf, ki, v = (x[:, 0] @ cell.linear.weight.T + cell.linear.bias).chunk(3, dim=-1)
    f, i = torch.sigmoid(kf), torch.sigmoid(ki)
    expected = f / (f + i) * h0 + i / (f + i) * g(v)
    torch.testing.assert_close(cell(x, h0)[1], expected, rtol=1e-12, atol=1e-14)


def test_g_and_log_g():
    v = torch.tensor([-800.0, -3.0, 0.0, 2.0], dtype=torch.float64)
    torch.testing.assert_close(g(v), torch.tensor([torch.sigmoid(v[0]).item(), torch.sigmoid(v[1]).item(), 0.5, 2.5],
                                                  dtype=torch.float64))
    assert torch.isfinite(log_g(v)).all() and log_g(v)[0] == -800.0     # no log(0) for very negative v
    torch.testing.assert_close(log_g(v[1:]), g(v[1:]).log())


def test_parameter_counts_are_those_of_the_docstring():
    count = lambda m: sum(p.numel() for p in m.parameters())          # noqa: E731
    assert count(MinGRU(7, 5)) == 2 * 5 * (7 + 1)
    assert count(MinLSTM(7, 5)) == 3 * 5 * (7 + 1)
    assert count(nn.GRU(7, 5)) == 3 * 5 * (7 + 5 + 2)


def test_block_and_language_model_carry_the_state_like_the_sequence_read_at_once():
    torch.manual_seed(4)
    model = MinRNNLM(11, 8, num_layers=2, cell="lstm").double().eval()
    ids = torch.randint(0, 11, (2, 12))
    whole, state = model(ids)
    first, s = model(ids[:, :5])
    second, s = model(ids[:, 5:], s)
    torch.testing.assert_close(torch.cat([first, second], 1), whole, rtol=1e-10, atol=1e-12)
    stepped, s = [], None
    for t in range(12):
        logits, s = model(ids[:, t:t + 1], s, mode="sequential")
        stepped.append(logits)
    torch.testing.assert_close(torch.cat(stepped, 1), whole, rtol=1e-10, atol=1e-12)
    assert state.shape == (2, 2, 8)
    block = MinRNNBlock(6)
    assert block(torch.randn(3, 4, 6))[0].shape == (3, 4, 6)


def test_generate_from_chapter_7_runs_a_minrnn_language_model():
    torch.manual_seed(5)
    model = MinRNNLM(7, 8, num_layers=1)
    ids = list(generate(model, [1, 2], 20, generator=torch.Generator().manual_seed(0)))
    assert len(ids) == 20 and all(0 <= i < 7 for i in ids)


def test_bad_input_is_refused_in_the_users_terms():
    cell = MinGRU(3, 4)
    with pytest.raises(ValueError, match="mode must be"):
        cell(torch.randn(1, 2, 3), mode="scan")
    with pytest.raises(ValueError, match=r"\(batch, T >= 1, 3\)"):
        cell(torch.randn(1, 2, 5))
    with pytest.raises(ValueError, match="negative"):
        cell(torch.randn(1, 2, 3), -torch.ones(1, 4))
    with pytest.raises(ValueError, match="cell must be"):
        MinRNNBlock(4, cell="rnn")
    with pytest.raises(ValueError, match="state must be"):
        MinRNNLM(5, 4)(torch.zeros(1, 3, dtype=torch.long), torch.zeros(1, 1, 4))
