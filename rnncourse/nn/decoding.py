"""Decoding a sequence model token by token: batched greedy search and beam search.

Both work with any decoder that can take one step::

    def step(tokens, state):
        # tokens: LongTensor (rows,), the previous token of each row
        # state:  whatever the decoder carries (hidden state, encoder outputs, source mask ...)
        # returns log_probs (rows, vocab) -- log_softmax of the logits -- and the new state
        ...
        return log_probs, new_state

    out = greedy_decode(step, state, batch_size, sos=SOS, eos=EOS, max_len=20)
    out.tokens        # (batch, T) without the start token, padded with `pad` after each EOS
    beams = beam_search(step, state, batch_size, sos=SOS, eos=EOS, max_len=20, beam_size=5)
    beams.tokens      # (batch, n_best, T), best first

**State layout.** Every tensor in ``state`` (a tensor, or tuples, lists and dicts of them, ``None``
allowed) holds the rows on dim 0: an LSTM's ``(h, c)`` of shape ``(layers, rows, hidden)`` goes in
as ``(rows, layers, hidden)`` and the step transposes it. Beam search repeats each row
``beam_size`` times (``repeat_interleave`` on dim 0) and reorders rows by back-pointers with
``index_select`` on dim 0; pass ``reorder(state, index)`` for any other layout.

**Stopping.** A row (greedy) or a hypothesis (beam) stops at its own end token: from then on it
emits ``pad``, its score no longer changes and it is never extended, while the others go on. The
loop ends when every row or hypothesis has stopped, or after ``max_len`` tokens. A returned
sequence therefore holds exactly one ``eos``, as its last real token, or reached ``max_len``
without one. ``lengths`` counts the real tokens, the ``eos`` included.

The step is called on every row until the loop ends, finished ones too (their results are
ignored): batched work is faster than shrinking the batch, and it keeps results independent of
which other rows share the batch, provided ``step`` treats its rows independently.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import torch

__all__ = ["Decoded", "greedy_decode", "beam_search"]

Step = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]


class Decoded(NamedTuple):
    """What a search returns.

    ``tokens``: LongTensor ``(batch, T)`` (greedy) or ``(batch, n_best, T)`` (beam), without the
    start token, ``pad`` after each end token; ``T <= max_len``.
    ``lengths``: the real tokens of each sequence, its ``eos`` included, same shape minus ``T``.
    ``log_probs``: the model's total log-probability of each sequence (sum over its real tokens).
    ``scores``: what the search ranked by: ``log_probs / lengths ** alpha`` (greedy: ``alpha=0``,
    so ``scores == log_probs``).
    """

    tokens: torch.Tensor
    lengths: torch.Tensor
    log_probs: torch.Tensor
    scores: torch.Tensor


def _map_state(state: Any, fn: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return fn(state)
    if isinstance(state, dict):
        return {k: _map_state(v, fn) for k, v in state.items()}
    if isinstance(state, (tuple, list)):
        mapped = [_map_state(v, fn) for v in state]
        return type(state)(*mapped) if hasattr(state, "_fields") else type(state)(mapped)
    raise TypeError(f"the decoder state may hold tensors, tuples, lists, dicts and None, not {type(state).__name__}")


def _select_rows(state: Any, index: torch.Tensor) -> Any:
    """The default ``reorder``: rows ``index`` of every tensor of ``state`` (rows on dim 0)."""
    return _map_state(state, lambda t: t.index_select(0, index.to(t.device)))


def _check_log_probs(log_probs: torch.Tensor, rows: int) -> None:
    if log_probs.dim() != 2 or log_probs.size(0) != rows:
        raise ValueError(f"step must return log-probabilities of shape (rows, vocab) = ({rows}, vocab); "
                         f"got {tuple(log_probs.shape)}")


def _check_args(batch_size: int, max_len: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1 token, got {max_len}")


@torch.no_grad()
def greedy_decode(step: Step, state: Any, batch_size: int, *, sos: int, eos: int, max_len: int,
                  pad: int = 0, device: torch.device | str | None = None) -> Decoded:
    """Feed each row its own most probable token until it emits ``eos`` (or ``max_len`` tokens).

    ``state``: the decoder's initial state, rows on dim 0 (see the module text). Returns a
    :class:`Decoded` with ``tokens (batch, T)``. Equals this plain loop, run for each row ``b``
    on its own::

        token, seq, total = sos, [], 0.0
        for _ in range(max_len):
            log_probs, state_b = step(tensor([token]), state_b)
            token = log_probs[0].argmax()          # ties: the lowest index, as topk(1) gives
            seq.append(token); total += log_probs[0, token]
            if token == eos:
                break
    """
    _check_args(batch_size, max_len)
    device = torch.device(device) if device is not None else None
    tokens = torch.full((batch_size,), sos, dtype=torch.long, device=device)
    finished = torch.zeros(batch_size, dtype=torch.bool, device=device)
    total = torch.zeros(batch_size, device=device)
    lengths = torch.zeros(batch_size, dtype=torch.long, device=device)
    steps = []
    for _ in range(max_len):
        log_probs, state = step(tokens, state)
        _check_log_probs(log_probs, batch_size)
        if device is None:  # follow the model's device from its first answer
            device = log_probs.device
            tokens, finished, total, lengths = (t.to(device) for t in (tokens, finished, total, lengths))
        best_log_prob, best = log_probs.float().topk(1, dim=-1)
        best, best_log_prob = best[:, 0], best_log_prob[:, 0]
        tokens = torch.where(finished, torch.full_like(best, pad), best)
        total = total + torch.where(finished, torch.zeros_like(best_log_prob), best_log_prob)
        lengths = lengths + (~finished).long()
        steps.append(tokens)
        finished = finished | (best == eos)
        if bool(finished.all()):
            break
    return Decoded(torch.stack(steps, dim=1), lengths, total, total.clone())


@torch.no_grad()
def beam_search(step: Step, state: Any, batch_size: int, *, sos: int, eos: int, max_len: int,
                beam_size: int = 5, alpha: float = 1.0, n_best: int = 1, pad: int = 0,
                reorder: Callable[[Any, torch.Tensor], Any] | None = None,
                device: torch.device | str | None = None) -> Decoded:
    """Keep the ``beam_size`` most probable partial sequences of each row; return the ``n_best``.

    Each row's beam starts as the start token alone. At every step each live hypothesis ``k`` with
    total log-probability ``s_k`` proposes ``s_k + log p(v | hypothesis k)`` for every token ``v``;
    a finished hypothesis proposes only itself, unchanged (``s_k``, then ``pad``). Of the
    ``beam_size x vocab`` proposals, the ``beam_size`` highest totals survive (``topk`` over the
    flattened ``(beam, vocab)`` grid; ``index // vocab`` is the back-pointer to the parent
    hypothesis, ``index % vocab`` the new token), and the decoder states follow their parents
    (``reorder``). A row is done when all its hypotheses have ended or ``max_len`` is reached.

    Pruning compares total log-probabilities; the final ranking divides by length:
    ``score = log_probs / lengths ** alpha``. ``alpha=0`` ranks by the total, which favours short
    outputs (every token costs log-probability); ``alpha=1`` by the mean log-probability per
    token. With ``beam_size=1`` the search is exactly :func:`greedy_decode` (one proposal survives:
    the arg-max).

    Returns a :class:`Decoded` with ``tokens (batch, n_best, T)``, ``lengths``, ``log_probs`` and
    ``scores`` ``(batch, n_best)``, best first. ``state`` holds the rows on dim 0
    (``batch_size`` of them) unless ``reorder`` handles it; it is repeated ``beam_size`` times
    per row, so the step sees ``batch_size * beam_size`` rows, row ``b * beam_size + k`` being
    hypothesis ``k`` of input ``b``.
    """
    _check_args(batch_size, max_len)
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    if not 1 <= n_best <= beam_size:
        raise ValueError(f"n_best must be between 1 and beam_size={beam_size}, got {n_best}")
    reorder = reorder or _select_rows
    B, K = batch_size, beam_size
    device = torch.device(device) if device is not None else None
    state = reorder(state, torch.arange(B).repeat_interleave(K))           # (B*K, ...)
    tokens = torch.full((B * K,), sos, dtype=torch.long, device=device)
    total = torch.full((B, K), float("-inf"), device=device)
    total[:, 0] = 0.0                                                    # one hypothesis to start
    finished = torch.zeros(B, K, dtype=torch.bool, device=device)
    lengths = torch.zeros(B, K, dtype=torch.long, device=device)
    history = torch.zeros(B, K, 0, dtype=torch.long, device=device)
    for _ in range(max_len):
        log_probs, state = step(tokens, state)
        _check_log_probs(log_probs, B * K)
        V = log_probs.size(1)
        if K > V:
            raise ValueError(f"beam_size={K} is larger than the vocabulary ({V} tokens)")
        if device is None:
            device = log_probs.device
            total, finished, lengths, history = (t.to(device) for t in (total, finished, lengths, history))
        log_probs = log_probs.float().view(B, K, V)
        # a finished hypothesis proposes itself once, at no cost (column eos, rewritten to pad below)
        frozen = torch.full_like(log_probs, float("-inf"))
        frozen[..., eos] = 0.0
        log_probs = torch.where(finished[..., None], frozen, log_probs)
        proposals = (total[..., None] + log_probs).view(B, K * V)           # (B, K*V)
        total, index = proposals.topk(K, dim=1)                             # (B, K), best first
        parent, token = index // V, index % V                               # back-pointers
        was_finished = finished.gather(1, parent)
        token = torch.where(was_finished, torch.full_like(token, pad), token)
        lengths = lengths.gather(1, parent) + (~was_finished).long()
        finished = was_finished | (token == eos)
        history = torch.cat([history.gather(1, parent[..., None].expand(-1, -1, history.size(2))),
                             token[..., None]], dim=2)
        rows = (torch.arange(B, device=device)[:, None] * K + parent).view(-1)
        state = reorder(state, rows)
        tokens = token.view(-1)
        if bool(finished.all()):
            break
    # dead hypotheses (total -inf: fewer than K proposals ever existed) rank last whatever alpha
    scores = total / lengths.clamp(min=1).float() ** alpha
    order = scores.argsort(dim=1, descending=True, stable=True)[:, :n_best]
    pick = lambda t: t.gather(1, order)  # noqa: E731
    return Decoded(history.gather(1, order[..., None].expand(-1, -1, history.size(2))),
                   pick(lengths), pick(total), pick(scores))
