"""rnncourse.nn.gpt: the small GPT set beside chapter 7's LSTM (shapes, causality, a short training
run that learns)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnncourse.nn.gpt import GPT, GPTConfig, causal_attention


def test_causal_attention_is_the_fused_kernel_and_reads_no_future():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 2, 4, 7, 8).unbind(0)                   # (B, nh, T, d) each
    ours = causal_attention(q, k, v)
    assert torch.allclose(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-5)
    assert torch.allclose(ours[..., 0, :], v[..., 0, :])              # the first position: itself only
    k2, v2 = k.clone(), v.clone()
    k2[..., 4:, :] += 5.0
    v2[..., 4:, :] -= 3.0
    assert torch.allclose(causal_attention(q, k2, v2)[..., :4, :], ours[..., :4, :], atol=1e-6)


def test_gpt_shapes_parameters_and_causality():
    torch.manual_seed(0)
    model = GPT().eval()                                       # nanoGPT's CPU recipe: 0.80M parameters
    assert 0.79e6 < sum(p.numel() for p in model.parameters()) < 0.81e6
    x = torch.randint(0, 65, (3, 64))
    logits = model(x)
    assert logits.shape == (3, 64, 65)
    y = x.clone()
    y[:, 40:] = (y[:, 40:] + 1) % 65                           # change the future of position 39
    assert torch.allclose(model(y)[:, :40], logits[:, :40], atol=1e-5)
    assert not torch.allclose(model(y)[:, 40:], logits[:, 40:])
    assert torch.allclose(model(x[:, :10]), logits[:, :10], atol=1e-5)   # shorter inputs: the same
    assert model.tokens.weight is not None and model.ln_f.weight.shape == (128,)


def test_gpt_refuses_bad_input_in_plain_words():
    model = GPT(GPTConfig(vocab_size=5, context=8, n_layer=1, n_head=2, n_embd=8))
    with pytest.raises(ValueError, match="context"):
        model(torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="batch, seq_len"):
        model(torch.zeros(9, dtype=torch.long))
    with pytest.raises(ValueError, match="multiple of n_head"):
        GPTConfig(n_head=3, n_embd=128)


def test_gpt_smoke_run_learns_a_periodic_text():
    torch.manual_seed(0)
    cfg = GPTConfig(vocab_size=7, context=16, n_layer=2, n_head=2, n_embd=32)
    model = GPT(cfg)
    data = torch.arange(400) % 7                               # 0 1 2 ... 6 0 1 ...: fully predictable
    optimizer = torch.optim.AdamW(model.param_groups(0.1), lr=3e-3, betas=(0.9, 0.99))
    groups = optimizer.param_groups
    assert groups[0]["weight_decay"] == 0.1 and all(p.dim() >= 2 for p in groups[0]["params"])
    assert groups[1]["weight_decay"] == 0.0 and all(p.dim() < 2 for p in groups[1]["params"])
    losses = []
    for step in range(60):
        starts = torch.randint(0, len(data) - 17, (8,))
        rows = torch.stack([data[s:s + 17] for s in starts])
        loss = F.cross_entropy(model(rows[:, :-1]).flatten(0, 1), rows[:, 1:].flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[0] > 1.5 and losses[-1] < 0.1, losses[::10]
