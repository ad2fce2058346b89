"""A small GPT (decoder-only transformer) over characters, written for the course to set beside
chapter 7's recurrent language model.

The configuration follows nanoGPT's CPU recipe for tiny-shakespeare (4 layers, 4 heads, 128
dimensions, a context of 64 characters, no dropout; no biases, weights tied between the embedding
and the output layer); the code is the course's own. For ids ``x (B, T)`` with ``T <= context``::

    h_0 = E[x] + P[0:T]                              token + position embeddings     (B, T, C)
    for each of the L blocks:
        h = h + Attention(LayerNorm(h))               causal self-attention           (B, T, C)
        h = h + MLP(LayerNorm(h))                     C -> 4C -> GELU -> C            (B, T, C)
    logits = LayerNorm(h) E^T                         the embedding matrix, tied       (B, T, V)

Attention with ``n_head = nh`` heads of size ``d = C / nh``: ``q, k, v = h W_qkv`` split into heads
``(B, nh, T, d)``, then ``softmax(q k^T / sqrt(d) + M) v`` where the mask ``M`` is ``-inf`` above
the diagonal, so position ``t`` reads positions ``<= t`` only; the heads are concatenated back to
``(B, T, C)`` and projected by ``W_o``. Every position is predicted in one parallel pass, which is
what makes a transformer fast to train; but each position sees at most ``context`` ids, and the
memory of generation grows with the text (a key/value cache), while a recurrent model carries a
fixed-size state. Initialisation as GPT-2: weights ``N(0, 0.02)``, the projections back into the
residual stream ``N(0, 0.02 / sqrt(2 L))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GPTConfig", "GPT", "causal_attention"]


@dataclass(frozen=True)
class GPTConfig:
    """Sizes of a :class:`GPT`; the defaults are nanoGPT's CPU recipe for tiny-shakespeare."""

    vocab_size: int = 65
    context: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if min(self.vocab_size, self.context, self.n_layer, self.n_head, self.n_embd) < 1:
            raise ValueError("vocab_size, context, n_layer, n_head and n_embd must all be at least 1.")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head}).")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}.")


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``softmax(q k^T / sqrt(d) + M) v`` with ``M`` masking the future, written out.

    ``q, k, v``: ``(B, nh, T, d)``; returns ``(B, nh, T, d)``. :class:`GPT` computes the same with
    ``F.scaled_dot_product_attention(..., is_causal=True)`` (fused, faster); this is its reference.
    """
    T, d = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)                     # (B, nh, T, T)
    future = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)
    return scores.masked_fill(future, float("-inf")).softmax(dim=-1) @ v


class _Attention(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.n_head, self.dropout = cfg.n_head, cfg.dropout
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=False)
        self.out = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        B, T, C = h.shape
        q, k, v = self.qkv(h).split(C, dim=-1)                          # (B, T, C) each
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(B, T, C))             # heads side by side


class _Block(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd, bias=False)
        self.attn = _Attention(cfg)
        self.ln2 = nn.LayerNorm(cfg.n_embd, bias=False)
        self.mlp = nn.Sequential(nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=False), nn.GELU(),
                                 nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=False))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h = h + self.drop(self.attn(self.ln1(h)))
        return h + self.drop(self.mlp(self.ln2(h)))


class GPT(nn.Module):
    """A decoder-only transformer: ``forward(x)`` with ``x LongTensor (B, T)``, ``T <= context``,
    returns ``logits (B, T, vocab_size)``, the scores of the id after each position."""

    def __init__(self, cfg: GPTConfig = GPTConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.tokens = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.positions = nn.Embedding(cfg.context, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(_Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, bias=False)
        self.apply(self._init)
        for block in self.blocks:                   # the layers that write into the residual stream
            for proj in (block.attn.out, block.mlp[2]):
                nn.init.normal_(proj.weight, 0.0, 0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2:
            raise ValueError(f"GPT expects ids of shape (batch, seq_len), got {tuple(x.shape)}.")
        T = x.shape[1]
        if not 1 <= T <= self.cfg.context:
            raise ValueError(f"GPT reads 1 to {self.cfg.context} ids at a time (its context), got {T}.")
        h = self.drop(self.tokens(x) + self.positions(torch.arange(T, device=x.device)))
        for block in self.blocks:
            h = block(h)
        return self.ln_f(h) @ self.tokens.weight.T                     # tied output layer

    def param_groups(self, weight_decay: float) -> list[dict]:
        """AdamW groups as nanoGPT makes them: matrices (and embeddings) decay, norms do not."""
        params = [p for p in self.parameters() if p.requires_grad]
        return [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
                {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
