"""rnncourse.nn.decoding: the properties a beam search must have, and exhaustive search as the judge.

The "model" here is a table of log-probabilities indexed by (input, previous token, position):
exact in any batch, so batch-size and order invariance can be checked with ``==``.
"""

from __future__ import annotations

import math

import pytest
import torch

import itertools

from rnncourse.nn.decoding import Decoded, beam_search, greedy_decode, length_penalty

SOS, EOS, PAD = 1, 2, 0


class TableModel:
    """log p(v | input b, previous token u, position t) = table[b, u, t, v]; state = (input id, t)."""

    def __init__(self, n_inputs: int, vocab: int, max_len: int, seed: int, eos_bias: float = 0.0):
        g = torch.Generator().manual_seed(seed)
        logits = torch.randn(n_inputs, vocab, max_len + 1, vocab, generator=g) * 2.0
        logits[..., EOS] += eos_bias + torch.linspace(-2, 4, max_len + 1)[None, None, :]  # EOS likelier later
        logits[..., PAD] = -1e9
        logits[..., SOS] = -1e9
        self.table = logits.log_softmax(-1)
        self.calls = 0

    def state(self, inputs: list[int]):
        return {"input": torch.tensor(inputs), "t": torch.zeros(len(inputs), dtype=torch.long)}

    def __call__(self, tokens, state):
        self.calls += 1
        log_probs = self.table[state["input"], tokens, state["t"]]
        return log_probs, {"input": state["input"], "t": state["t"] + 1}

    def sequence_log_prob(self, b: int, seq: list[int]) -> float:
        total, prev = 0.0, SOS
        for t, token in enumerate(seq):
            total += float(self.table[b, prev, t, token])
            prev = token
        return total


def real_tokens(tokens: torch.Tensor, length: int) -> list[int]:
    return tokens[:length].tolist()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_beam_width_one_is_greedy_exactly(seed):
    model = TableModel(6, 9, 12, seed)
    g = greedy_decode(model, model.state(list(range(6))), 6, sos=SOS, eos=EOS, max_len=12, pad=PAD)
    b = beam_search(model, model.state(list(range(6))), 6, sos=SOS, eos=EOS, max_len=12,
                    beam_size=1, alpha=0.0, pad=PAD)
    assert torch.equal(b.tokens[:, 0], g.tokens)
    assert torch.equal(b.lengths[:, 0], g.lengths)
    assert torch.equal(b.log_probs[:, 0], g.log_probs)
    assert torch.equal(b.complete[:, 0], g.complete)


def test_greedy_is_the_plain_loop_per_row():
    model = TableModel(5, 8, 10, seed=4)
    out = greedy_decode(model, model.state(list(range(5))), 5, sos=SOS, eos=EOS, max_len=10, pad=PAD)
    for b in range(5):
        token, seq, total = SOS, [], 0.0
        for t in range(10):
            row = model.table[b, token, t]
            token = int(row.argmax())
            seq.append(token)
            total += float(row[token])
            if token == EOS:
                break
        assert real_tokens(out.tokens[b], int(out.lengths[b])) == seq
        assert out.log_probs[b].item() == pytest.approx(total, abs=1e-5)


@pytest.mark.parametrize("search", ["greedy", "beam"])
def test_results_do_not_depend_on_batch_size_or_order(search):
    model = TableModel(7, 10, 15, seed=5)

    def run(inputs):
        if search == "greedy":
            out = greedy_decode(model, model.state(inputs), len(inputs), sos=SOS, eos=EOS, max_len=15, pad=PAD)
            return [(real_tokens(out.tokens[i], int(out.lengths[i])), out.log_probs[i].item())
                    for i in range(len(inputs))]
        out = beam_search(model, model.state(inputs), len(inputs), sos=SOS, eos=EOS, max_len=15,
                          beam_size=4, n_best=3, pad=PAD)
        return [[(real_tokens(out.tokens[i, k], int(out.lengths[i, k])), out.log_probs[i, k].item())
                 for k in range(3)] for i in range(len(inputs))]

    together = run(list(range(7)))
    alone = [run([i])[0] for i in range(7)]
    chunks = run([0, 1, 2]) + run([3, 4, 5, 6])
    order = [5, 2, 6, 0, 3, 1, 4]
    shuffled = run(order)
    assert together == alone == chunks
    assert [together[i] for i in order] == shuffled


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_hypothesis_has_exactly_one_eos_at_its_end_or_reaches_the_limit(seed):
    max_len = 6
    model = TableModel(5, 7, max_len, seed, eos_bias=-1.5)  # some hypotheses hit the limit
    out = beam_search(model, model.state(list(range(5))), 5, sos=SOS, eos=EOS, max_len=max_len,
                      beam_size=4, n_best=4, pad=PAD)
    hit_limit = 0
    for b in range(5):
        for k in range(4):
            row, length = out.tokens[b, k].tolist(), int(out.lengths[b, k])
            real, rest = row[:length], row[length:]
            assert all(t == PAD for t in rest), f"tokens after the end must be padding: {row}"
            if EOS in real:
                assert real.count(EOS) == 1 and real[-1] == EOS, f"one EOS, last: {row}"
            else:
                assert length == max_len, f"no EOS, so it must have reached the limit: {row}"
                hit_limit += 1
    g = greedy_decode(model, model.state(list(range(5))), 5, sos=SOS, eos=EOS, max_len=max_len, pad=PAD)
    for b in range(5):
        real = g.tokens[b].tolist()[: int(g.lengths[b])]
        assert (real.count(EOS) == 1 and real[-1] == EOS) or (EOS not in real and len(real) == max_len)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_finished_hypotheses_are_never_extended(seed):
    """The log-probability returned is the model's for exactly the returned tokens: a finished
    hypothesis gained no score and no token after its EOS, though the search went on."""
    model = TableModel(4, 8, 12, seed)
    out = beam_search(model, model.state(list(range(4))), 4, sos=SOS, eos=EOS, max_len=12,
                      beam_size=5, n_best=5, alpha=0.0, pad=PAD)
    assert out.tokens.size(-1) > int(out.lengths.min()), "the test needs a hypothesis that ended early"
    for b in range(4):
        for k in range(5):
            seq = real_tokens(out.tokens[b, k], int(out.lengths[b, k]))
            assert out.log_probs[b, k].item() == pytest.approx(model.sequence_log_prob(b, seq), abs=1e-4)
        seqs = [tuple(real_tokens(out.tokens[b, k], int(out.lengths[b, k]))) for k in range(5)]
        assert len(set(seqs)) == 5, f"a hypothesis was returned twice: {seqs}"


def test_the_search_stops_per_hypothesis_not_when_the_best_one_ends():
    """Input 0: EOS is the best first token (0.5), but 'a EOS' has 0.45 * 1.0: it must still be found."""
    V, a = 5, 3
    table = torch.full((1, V, 4, V), 1e-9)
    table[0, SOS, 0, EOS], table[0, SOS, 0, a], table[0, SOS, 0, 4] = 0.5, 0.45, 0.05
    table[0, a, 1, EOS] = 1.0
    table[0, 4, 1, EOS] = 1.0
    table[..., 2:, EOS] = 1.0
    model = TableModel(1, V, 3, seed=0)
    model.table = (table / table.sum(-1, keepdim=True)).log()
    out = beam_search(model, model.state([0]), 1, sos=SOS, eos=EOS, max_len=3, beam_size=2, n_best=2,
                      alpha=1.0, pad=PAD)
    found = {tuple(real_tokens(out.tokens[0, k], int(out.lengths[0, k]))) for k in range(2)}
    assert found == {(EOS,), (a, EOS)}
    # per token, 'a EOS' (log 0.45 / 2) beats 'EOS' (log 0.5 / 1)
    assert real_tokens(out.tokens[0, 0], int(out.lengths[0, 0])) == [a, EOS]


def test_length_normalisation_changes_the_ranking_as_documented():
    """'EOS' has total log 0.4 = -0.92; 'a EOS' has log 0.6 + log 0.5 = -1.20, i.e. -0.60 per token."""
    V, a, b = 5, 3, 4
    table = torch.full((1, V, 3, V), 1e-12)
    table[0, SOS, 0, EOS], table[0, SOS, 0, a] = 0.4, 0.6
    table[0, a, 1, EOS], table[0, a, 1, b] = 0.5, 0.5
    table[0, b, 2, EOS], table[0, b, 2, a], table[0, b, 2, b] = 0.01, 0.495, 0.495  # 'a b ...' is worse
    model = TableModel(1, V, 2, seed=0)
    model.table = (table / table.sum(-1, keepdim=True)).log()
    ranked = {}
    for alpha in (0.0, 2.0):
        out = beam_search(model, model.state([0]), 1, sos=SOS, eos=EOS, max_len=3, beam_size=3, alpha=alpha,
                          pad=PAD)
        ranked[alpha] = real_tokens(out.tokens[0, 0], int(out.lengths[0, 0]))
        length = int(out.lengths[0, 0])
        gnmt = ((5 + length) / 6) ** alpha
        assert out.scores[0, 0].item() == pytest.approx(out.log_probs[0, 0].item() / gnmt)
    assert ranked[0.0] == [EOS]                      # the total favours the short output
    assert ranked[2.0] == [a, EOS]                   # GNMT's penalty with alpha 2 favours the longer one
    lp = lambda n: ((5 + n) / 6) ** 2.0  # noqa: E731
    assert math.log(0.6) + math.log(0.5) < math.log(0.4) / lp(1) < (math.log(0.6) + math.log(0.5)) / lp(2)


def test_beam_finds_a_sequence_greedy_misses():
    """Greedy takes 'a' (0.6) and then has only poor continuations; 'c EOS' (0.4 x 1.0) is better."""
    V, a, c = 6, 3, 4
    table = torch.full((1, V, 3, V), 1e-12)
    table[0, SOS, 0, a], table[0, SOS, 0, c] = 0.6, 0.4
    table[0, a, 1, EOS], table[0, a, 1, 5] = 0.5, 0.5
    table[0, c, 1, EOS] = 1.0
    table[0, 5, 2, EOS] = 1.0
    model = TableModel(1, V, 2, seed=0)
    model.table = (table / table.sum(-1, keepdim=True)).log()
    g = greedy_decode(model, model.state([0]), 1, sos=SOS, eos=EOS, max_len=3, pad=PAD)
    b = beam_search(model, model.state([0]), 1, sos=SOS, eos=EOS, max_len=3, beam_size=2, alpha=0.0, pad=PAD)
    assert real_tokens(g.tokens[0], int(g.lengths[0]))[0] == a
    assert real_tokens(b.tokens[0, 0], int(b.lengths[0, 0])) == [c, EOS]
    assert b.log_probs[0, 0] > g.log_probs[0]


def test_n_best_are_sorted_and_shapes_are_documented():
    model = TableModel(3, 9, 8, seed=6)
    out = beam_search(model, model.state([0, 1, 2]), 3, sos=SOS, eos=EOS, max_len=8, beam_size=4, n_best=3,
                      pad=PAD)
    assert isinstance(out, Decoded)
    assert out.tokens.shape[:2] == (3, 3) and out.tokens.size(2) <= 8
    assert out.lengths.shape == out.log_probs.shape == out.scores.shape == out.complete.shape == (3, 3)
    assert bool(out.complete.all())
    assert torch.all(out.scores[:, :-1] >= out.scores[:, 1:])


def test_lstm_style_state_with_a_custom_reorder():
    """A state laid out (layers, rows, hidden) works when the caller says how to reorder it."""
    torch.manual_seed(0)
    emb, cell, head = torch.nn.Embedding(7, 4), torch.nn.LSTM(4, 6, num_layers=2), torch.nn.Linear(6, 7)

    def step(tokens, state):
        out, state = cell(emb(tokens)[None], state)
        return head(out[0]).log_softmax(-1), state

    h0 = (torch.randn(2, 3, 6), torch.randn(2, 3, 6))
    reorder = lambda s, i: tuple(t.index_select(1, i) for t in s)  # noqa: E731
    b = beam_search(step, h0, 3, sos=SOS, eos=EOS, max_len=5, beam_size=1, reorder=reorder, pad=PAD)
    g = greedy_decode(step, h0, 3, sos=SOS, eos=EOS, max_len=5, pad=PAD)
    assert torch.equal(b.tokens[:, 0], g.tokens)


def test_bad_arguments_are_explained():
    model = TableModel(2, 4, 5, seed=0)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        beam_search(model, model.state([0, 1]), 2, sos=SOS, eos=EOS, max_len=5, beam_size=2, alpha=-0.5)
    with pytest.raises(ValueError, match="n_best"):
        beam_search(model, model.state([0, 1]), 2, sos=SOS, eos=EOS, max_len=5, beam_size=2, n_best=3)
    with pytest.raises(ValueError, match="max_len"):
        greedy_decode(model, model.state([0, 1]), 2, sos=SOS, eos=EOS, max_len=0)
    with pytest.raises(ValueError, match=r"\(rows, vocab\)"):
        greedy_decode(lambda t, s: (torch.zeros(3, 4), s), model.state([0, 1]), 2, sos=SOS, eos=EOS, max_len=3)
    with pytest.raises(TypeError, match="tensors, tuples, lists, dicts"):
        beam_search(model, {"input": "x"}, 1, sos=SOS, eos=EOS, max_len=3, beam_size=2)


def brute_force(model: TableModel, b: int, max_len: int, alpha: float, vocab: list[int]):
    """Every output ending in EOS within max_len tokens, scored log P / lp: sorted best first."""
    found = []
    for n in range(1, max_len + 1):
        for body in itertools.product(vocab, repeat=n - 1):
            seq = [*body, EOS]
            total = model.sequence_log_prob(b, seq)
            found.append((total / ((5 + n) / 6) ** alpha, seq))
    return sorted(found, key=lambda f: -f[0])


@pytest.mark.parametrize("seed", range(0, 600, 3))
def test_a_beam_that_never_prunes_finds_the_exact_best_outputs(seed):
    """Against exhaustive search on 200 random decoders: with every live prefix kept, the stop rule
    (no live hypothesis can beat the n_best-th finished one) must lose nothing, for any alpha."""
    V, max_len = 5, 5                           # tokens 3, 4 and EOS: 2**4 = 16 prefixes at most
    model = TableModel(2, V, max_len, seed, eos_bias=-1.0)
    alpha = (0.0, 0.6, 1.0, 2.0)[seed % 4]
    out = beam_search(model, model.state([0, 1]), 2, sos=SOS, eos=EOS, max_len=max_len, beam_size=40,
                      n_best=3, alpha=alpha, pad=PAD)
    for b in range(2):
        expected = brute_force(model, b, max_len, alpha, [3, 4])[:3]
        for k, (score, seq) in enumerate(expected):
            assert real_tokens(out.tokens[b, k], int(out.lengths[b, k])) == seq
            assert out.scores[b, k].item() == pytest.approx(score, abs=1e-4)
            assert bool(out.complete[b, k])


def test_length_penalty_is_gnmts():
    lengths = torch.tensor([1, 4, 10])
    assert torch.allclose(length_penalty(lengths, 0.6), ((5 + lengths.float()) / 6) ** 0.6)
    assert torch.equal(length_penalty(lengths, 0.0), torch.ones(3))
    assert float(length_penalty(1, 1.0)) == 1.0


class CountingTable(TableModel):
    def __init__(self, table: torch.Tensor):
        super().__init__(1, table.size(-1), table.size(2) - 1, seed=0)
        self.table = (table / table.sum(-1, keepdim=True)).log()


def test_the_search_stops_when_no_live_hypothesis_can_beat_the_best_finished():
    """'EOS' at the first step has 0.9: every live total is below log 0.9 and can only fall."""
    V = 5
    table = torch.full((1, V, 8, V), 1e-3)
    table[0, :, :, EOS] = 0.05
    table[0, SOS, 0, EOS], table[0, SOS, 0, 3], table[0, SOS, 0, 4] = 0.9, 0.05, 0.05
    model = CountingTable(table)
    out = beam_search(model, model.state([0]), 1, sos=SOS, eos=EOS, max_len=7, beam_size=3, alpha=0.0,
                      pad=PAD)
    assert real_tokens(out.tokens[0, 0], int(out.lengths[0, 0])) == [EOS]
    assert model.calls == 1, "one step decides it: nothing live can reach log 0.9"
    # 'EOS' at 0.6, live totals log 0.2: with alpha 3, log 0.2 / lp(7) = -0.20 > log 0.6 = -0.51,
    # so a live hypothesis might still win after normalisation and the search must go on
    table[0, SOS, 0, EOS], table[0, SOS, 0, 3], table[0, SOS, 0, 4] = 0.6, 0.2, 0.2
    model = CountingTable(table)
    beam_search(model, model.state([0]), 1, sos=SOS, eos=EOS, max_len=7, beam_size=3, alpha=3.0, pad=PAD)
    assert model.calls > 1
    assert math.log(0.2) / ((5 + 7) / 6) ** 3 > math.log(0.6)


def test_an_output_cut_at_max_len_never_outranks_a_finished_one():
    """'a a' (cut at max_len=2, total log 0.81) is more probable than 'b EOS' (log 0.1), but unfinished."""
    V, a, b = 5, 3, 4
    table = torch.full((1, V, 3, V), 1e-9)
    table[0, SOS, 0, a], table[0, SOS, 0, b] = 0.9, 0.1
    table[0, a, 1, a] = 0.9
    table[0, a, 1, b] = 0.1
    table[0, b, 1, EOS] = 1.0
    model = CountingTable(table)
    out = beam_search(model, model.state([0]), 1, sos=SOS, eos=EOS, max_len=2, beam_size=2, n_best=2,
                      alpha=0.0, pad=PAD)
    assert real_tokens(out.tokens[0, 0], int(out.lengths[0, 0])) == [b, EOS]
    assert out.complete[0].tolist() == [True, False]
    assert real_tokens(out.tokens[0, 1], int(out.lengths[0, 1])) == [a, a]
    assert out.log_probs[0, 1] > out.log_probs[0, 0]
