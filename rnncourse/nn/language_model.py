"""A character (or token) language model on a recurrent layer, and generation from it.

``CharLM`` reads ids ``x (batch, seq_len)`` and scores the next id at every position::

    e_t = E[x_t]                                  embedding          (batch, seq_len, embed_dim)
    h_t, state = RNN(e_t, state)                  LSTM or GRU layers (batch, seq_len, hidden_size)
    logits_t = W_out dropout(h_t) + b_out         next-id scores     (batch, seq_len, vocab)

trained with ``cross_entropy(logits[:, t], x[:, t + 1])``. Because the recurrent layer summarises
everything it has read in ``state``, generating needs only the last id and that state:
:func:`generate` feeds one id per step, so each new character costs the same time and memory
however long the text already is. :func:`generate_by_refeeding` is the other way, the one many
tutorials use: re-run the network over the last ``window`` ids for every new one and throw the
state away (``window`` times the work per character, and nothing remembered beyond the window).
"""

from __future__ import annotations

from typing import Iterator, Sequence

import torch
from torch import nn

from rnncourse.nn.sampling import sample_token

__all__ = ["CharLM", "generate", "generate_by_refeeding"]

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class CharLM(nn.Module):
    """Embedding -> ``num_layers`` LSTM or GRU layers -> dropout -> linear scores over the vocabulary.

    Args:
        vocab_size: number of distinct ids ``V``.
        embed_dim: size of each id's embedding.
        hidden_size: size of the recurrent state ``H``.
        num_layers: stacked recurrent layers.
        dropout: dropout on the embeddings, between layers and before the output layer.
        cell: ``"lstm"`` (state ``(h, c)``, each ``(num_layers, batch, H)``) or ``"gru"``
            (state ``h (num_layers, batch, H)``).

    ``forward(x, state=None)``: ``x`` is ``LongTensor (batch, seq_len)``; returns
    ``(logits (batch, seq_len, V), state)``; ``state=None`` starts from zeros.
    """

    def __init__(self, vocab_size: int, embed_dim: int, hidden_size: int, num_layers: int = 1,
                 dropout: float = 0.0, cell: str = "lstm") -> None:
        super().__init__()
        if cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}.")
        if min(vocab_size, embed_dim, hidden_size, num_layers) < 1:
            raise ValueError("vocab_size, embed_dim, hidden_size and num_layers must all be at least 1.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        self.vocab_size, self.hidden_size, self.num_layers, self.cell = vocab_size, hidden_size, num_layers, cell
        self.embed = nn.Embedding(vocab_size, embed_dim)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(embed_dim, hidden_size, num_layers, batch_first=True,
                       dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def init_state(self, batch_size: int) -> State:
        """The zero state for ``batch_size`` streams, on the model's device."""
        weight = self.head.weight
        zeros = weight.new_zeros(self.num_layers, batch_size, self.hidden_size)
        return (zeros, zeros.clone()) if self.cell == "lstm" else zeros

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        if x.dim() != 2:
            raise ValueError(f"CharLM expects ids of shape (batch, seq_len), got {tuple(x.shape)}.")
        if state is None:
            state = self.init_state(x.shape[0])
        out, state = self.rnn(self.drop(self.embed(x)), state)
        return self.head(self.drop(out)), state


def _prompt_tensor(prompt_ids: Sequence[int] | torch.Tensor, device: torch.device) -> torch.Tensor:
    prompt = torch.as_tensor(prompt_ids, dtype=torch.long, device=device).flatten()
    if prompt.numel() == 0:
        raise ValueError("generation needs a prompt of at least one id (e.g. a newline) to start from.")
    return prompt.unsqueeze(0)                                     # (1, prompt_len)


def generate(model: CharLM, prompt_ids: Sequence[int] | torch.Tensor, n: int, *, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None,
             generator: torch.Generator | None = None) -> Iterator[int]:
    """Yield ``n`` new ids after ``prompt_ids``, one at a time, keeping only the hidden state.

    The prompt is read once; then each step feeds the one id just drawn, ``(1, 1)``, with the
    carried state, and draws the next from the last scores with :func:`~rnncourse.nn.sampling.sample_token`
    (``temperature``, ``top_k``, ``top_p``, ``generator`` as there). Work and memory per id are
    constant. The model runs in eval mode and gets its mode back at the end; every step runs under
    ``torch.inference_mode()`` entered inside the step (never across a ``yield``), so the state
    carries no autograd graph whichever thread resumes the generator::

        text = "".join(itos[i] for i in generate(model, [stoi[c] for c in "ROMEO:"], 500))
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}.")
    device = next(model.parameters()).device
    prompt = _prompt_tensor(prompt_ids, device)
    draw = dict(temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)
    was_training = model.training
    model.eval()
    try:
        # grad mode is per thread and a consumer (a web server) may resume this generator on
        # another thread, so each step enters inference mode itself; it never yields inside it
        with torch.inference_mode():
            logits, state = model(prompt)
        for _ in range(n):
            with torch.inference_mode():
                token = sample_token(logits[:, -1], **draw)
            yield int(token)
            with torch.inference_mode():
                logits, state = model(token.view(1, 1), state)
    finally:
        model.train(was_training)


def generate_by_refeeding(model: CharLM, prompt_ids: Sequence[int] | torch.Tensor, n: int, *, window: int,
                          temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                          generator: torch.Generator | None = None) -> Iterator[int]:
    """Yield ``n`` new ids the costly way: for each one, run the model from a zero state over the
    last ``window`` ids of the text so far and discard the state. Each id costs up to ``window``
    steps, and nothing before the window is remembered. Kept to measure :func:`generate` against."""
    if n < 0 or window < 1:
        raise ValueError(f"n must be >= 0 and window >= 1, got {n} and {window}.")
    device = next(model.parameters()).device
    text = _prompt_tensor(prompt_ids, device)
    was_training = model.training
    model.eval()
    try:
        for _ in range(n):
            with torch.inference_mode():                   # per step, as in generate
                logits, _ = model(text[:, -window:])
                token = sample_token(logits[:, -1], temperature=temperature, top_k=top_k, top_p=top_p,
                                     generator=generator)
                text = torch.cat([text, token.view(1, 1)], dim=1)
            yield int(token)
    finally:
        model.train(was_training)
