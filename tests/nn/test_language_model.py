"""rnncourse.nn.language_model and rnncourse.data.ContiguousBatches: the pieces of truncated BPTT and
stateful generation."""

from __future__ import annotations

import pytest
import torch

from rnncourse.data import ContiguousBatches
from rnncourse.nn.language_model import CharLM, generate, generate_by_refeeding


@pytest.mark.parametrize("n, batch_size, bptt", [(25, 3, 3), (1000, 7, 13), (101, 4, 200), (11, 10, 1)])
def test_contiguous_batches_cover_every_character_once_in_order(n, batch_size, bptt):
    data = torch.arange(n)
    batches = list(ContiguousBatches(data, batch_size, bptt))
    assert len(batches) == len(ContiguousBatches(data, batch_size, bptt))
    x = torch.cat([b[0] for b in batches], dim=1)              # each row: one stream, in order
    y = torch.cat([b[1] for b in batches], dim=1)
    steps = (n - 1) // batch_size
    assert torch.equal(x.flatten(), data[: batch_size * steps])  # every input once, in order
    assert torch.equal(y, x + 1)                                 # targets are the next character
    assert n - 1 - batch_size * steps < batch_size               # fewer than B ids left out
    for a, b in zip(batches, batches[1:]):                       # rows continue across batches
        assert torch.equal(b[0][:, 0], a[0][:, -1] + 1)
    assert all(b[0].shape[0] == batch_size and b[0].shape[1] <= bptt for b in batches)


def test_contiguous_batches_are_the_same_every_pass_and_refuse_bad_input():
    loader = ContiguousBatches(torch.arange(50), 4, 5)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(loader, loader))
    with pytest.raises(ValueError, match="too few"):
        ContiguousBatches(torch.arange(3), 4, 5)
    with pytest.raises(ValueError, match="one sequence"):
        ContiguousBatches(torch.zeros(3, 3), 1, 5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_charlm_shapes_and_carrying_state_equals_one_long_pass(cell):
    torch.manual_seed(0)
    model = CharLM(11, 8, 16, num_layers=2, cell=cell).eval()
    x = torch.randint(0, 11, (3, 20))
    whole, _ = model(x)
    assert whole.shape == (3, 20, 11)
    state, pieces = None, []
    for chunk in x.split(6, dim=1):
        logits, state = model(chunk, state)
        pieces.append(logits)
    torch.testing.assert_close(torch.cat(pieces, dim=1), whole, rtol=1e-5, atol=1e-6)
    init = model.init_state(3)
    shapes = [t.shape for t in init] if cell == "lstm" else [init.shape]
    assert all(s == (2, 3, 16) for s in shapes)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_generate_carrying_state_equals_feeding_the_whole_text(cell):
    torch.manual_seed(1)
    model = CharLM(13, 8, 24, num_layers=2, dropout=0.2, cell=cell)
    prompt = [1, 5, 2, 7]
    out = list(generate(model, prompt, 30, temperature=0))
    assert model.training                                       # mode given back
    assert len(out) == 30 and all(0 <= i < 13 for i in out)
    model.eval()
    with torch.no_grad():
        logits, _ = model(torch.tensor([prompt + out]))
    # greedy: each generated id is the argmax after the whole text before it, fed at once
    assert logits[0, len(prompt) - 1 : -1].argmax(-1).tolist() == out


def test_generate_same_seed_same_text_and_refeeding_with_a_long_window_agrees():
    torch.manual_seed(2)
    model = CharLM(9, 6, 12, cell="gru")
    a = list(generate(model, [0], 40, top_k=5, generator=torch.Generator().manual_seed(3)))
    b = list(generate(model, [0], 40, top_k=5, generator=torch.Generator().manual_seed(3)))
    assert a == b
    c = list(generate_by_refeeding(model, [0], 40, window=1000, top_k=5,
                                   generator=torch.Generator().manual_seed(3)))
    assert c == a        # a window longer than the text sees everything: same scores, same draws


def test_generate_refuses_an_empty_prompt_and_bad_cell():
    model = CharLM(5, 4, 4)
    with pytest.raises(ValueError, match="prompt"):
        list(generate(model, [], 3))
    with pytest.raises(ValueError, match="cell"):
        CharLM(5, 4, 4, cell="rnn")


class _Recording(CharLM):
    """A CharLM that notes, at every forward, whether autograd could record it."""

    def forward(self, x, state=None):
        logits, state = super().forward(x, state)
        self.records.append((torch.is_grad_enabled() and not torch.is_inference_mode_enabled(),
                             logits.requires_grad))
        return logits, state


@pytest.mark.parametrize("make", [lambda m: generate(m, [1, 2], 6),
                                  lambda m: generate_by_refeeding(m, [1, 2], 6, window=3)])
def test_generation_resumed_on_other_threads_never_records_a_graph(make):
    """Grad mode is per thread: a server resumes a stream on whichever worker thread is free."""
    import threading

    model = _Recording(vocab_size=5, embed_dim=3, hidden_size=4)
    model.records = []
    ids = make(model)
    tokens = [next(ids)]
    for _ in range(5):                                    # each next step on a fresh thread
        worker = threading.Thread(target=lambda: tokens.append(next(ids)))
        worker.start()
        worker.join()
    assert len(tokens) == 6 and len(model.records) >= 6
    assert not any(grad or requires for grad, requires in model.records), model.records
