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
    beams = beam_search(step, state, batch_size, sos=SOS, eos=EOS, max_len=20, beam_size=5,
                        alpha=0.6)
    beams.tokens      # (batch, n_best, T), best first

**State layout.** Every tensor in ``state`` (a tensor, or tuples, lists and dicts of them, ``None``
allowed) holds the rows on dim 0: an LSTM's ``(h, c)`` of shape ``(layers, rows, hidden)`` goes in
as ``(rows, layers, hidden)`` and the step transposes it. Beam search repeats each row
``beam_size`` times (``repeat_interleave`` on dim 0) and reorders rows by back-pointers with
``index_select`` on dim 0; pass ``reorder(state, index)`` for any other layout.

**Stopping.** A greedy row stops at its own end token: from then on it emits ``pad`` and its
score no longer changes, while the other rows go on. A beam hypothesis that writes ``eos`` leaves
the beam for its input's list of finished outputs, and the beam goes on with live hypotheses only,
until none of them can beat the finished ones (GNMT's stop rule, see :func:`beam_search`). A
returned sequence holds exactly one ``eos``, as its last real token, or reached ``max_len``
without one (``complete`` is False). ``lengths`` counts the real tokens, the ``eos`` included.

The step is called on every row until the loop ends, finished ones too (their results are
ignored): batched work is faster than shrinking the batch, and it keeps results independent of
which other rows share the batch, provided ``step`` treats its rows independently.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import torch

__all__ = ["Decoded", "greedy_decode", "beam_search", "length_penalty"]

Step = Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]]


class Decoded(NamedTuple):
    """What a search returns.

    ``tokens``: LongTensor ``(batch, T)`` (greedy) or ``(batch, n_best, T)`` (beam), without the
    start token, ``pad`` after each end token; ``T <= max_len``.
    ``lengths``: the real tokens of each sequence, its ``eos`` included, same shape minus ``T``.
    ``log_probs``: the model's total log-probability of each sequence (sum over its real tokens).
    ``scores``: what the search ranked by: ``log_probs / length_penalty(lengths, alpha)``
    (greedy: ``alpha=0``, so ``scores == log_probs``).
    ``complete``: True where the sequence ended with ``eos``, False where ``max_len`` cut it.
    """

    tokens: torch.Tensor
    lengths: torch.Tensor
    log_probs: torch.Tensor
    scores: torch.Tensor
    complete: torch.Tensor


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
    return Decoded(torch.stack(steps, dim=1), lengths, total, total.clone(), finished.clone())


def length_penalty(lengths: torch.Tensor | int, alpha: float) -> torch.Tensor:
    """GNMT's length penalty (Wu et al. 2016, eq. 14): ``lp(Y) = ((5 + |Y|) / 6) ** alpha``.

    A finished hypothesis ``Y`` (its ``eos`` counted in ``|Y|``) is ranked by
    ``log P(Y | X) / lp(Y)``. ``alpha=0`` ranks by the total log-probability, which favours short
    outputs (every token costs log-probability); larger ``alpha`` favours longer ones. ``lp`` grows
    with ``|Y|``, so for ``alpha >= 0`` and a total ``s <= 0`` the score ``s / lp`` can only rise
    with the length: the bound the search's stop rule uses.
    """
    return ((5.0 + torch.as_tensor(lengths, dtype=torch.float)) / 6.0) ** alpha


class _Finished:
    """The hypotheses of each input that have written ``eos``: out of the beam, in their own list."""

    def __init__(self, batch_size: int, n_best: int, alpha: float, max_len: int) -> None:
        self.rows: list[list[tuple[float, float, list[int]]]] = [[] for _ in range(batch_size)]
        self.done = [False] * batch_size
        self.n_best, self.alpha = n_best, alpha
        self.best_possible = float(length_penalty(max_len, alpha))  # the largest lp a live one can reach

    def add(self, totals, parents, is_eos, history: torch.Tensor, length: int, eos: int) -> None:
        """Candidates ``(B, K)`` ending in ``eos``: their total, parent, and the parents' tokens."""
        hits = (is_eos & torch.isfinite(totals)).nonzero().tolist()
        if not hits:
            return
        lp = float(length_penalty(length, self.alpha))
        for b, j in hits:
            if not self.done[b]:
                total = float(totals[b, j])
                tokens = history[b, int(parents[b, j])].tolist() + [eos]
                self.rows[b].append((total / lp, total, tokens))

    def update_done(self, live_totals: torch.Tensor) -> bool:
        """Input ``b`` is done when no live hypothesis can beat its ``n_best``-th finished one.

        A live total ``s <= 0`` can only fall, so its best possible score is ``s / lp(max_len)``.
        """
        bounds = (live_totals.max(dim=1).values / self.best_possible).tolist()
        for b, bound in enumerate(bounds):
            if self.done[b]:
                continue
            scores = sorted((score for score, _, _ in self.rows[b]), reverse=True)
            kth = scores[self.n_best - 1] if len(scores) >= self.n_best else float("-inf")
            self.done[b] = bound == float("-inf") or bound <= kth
        return all(self.done)


@torch.no_grad()
def beam_search(step: Step, state: Any, batch_size: int, *, sos: int, eos: int, max_len: int,
                beam_size: int = 5, alpha: float = 0.0, n_best: int = 1, pad: int = 0,
                reorder: Callable[[Any, torch.Tensor], Any] | None = None,
                device: torch.device | str | None = None) -> Decoded:
    """Beam search as in GNMT and fairseq: the ``n_best`` finished outputs of each input, best first.

    Each input's beam starts as the start token alone and holds ``K = beam_size`` *live*
    hypotheses. At every step each live hypothesis ``k`` (total log-probability ``s_k``) proposes
    ``s_k + log p(v | k)`` for every token ``v``; of the ``K x V`` proposals the ``2K`` best are
    taken (``topk`` over the flattened grid: ``index // V`` is the back-pointer, ``index % V``
    the token). A proposal ending in ``eos`` among the first ``K`` **leaves the beam** for the
    input's finished list, scored ``s / lp(Y)`` with GNMT's :func:`length_penalty`
    ``lp(Y) = ((5 + |Y|) / 6) ** alpha``; the ``K`` best proposals not ending in ``eos`` are the
    next beam, and the decoder states follow their parents (``reorder``).

    **Stop rule.** An input is done when no live hypothesis can beat its ``n_best``-th finished
    one: a live total only falls, so ``max_k s_k / lp(max_len)`` bounds every score it can still
    reach. The loop ends when every input is done, or after ``max_len`` steps. If an input has
    fewer than ``n_best`` finished outputs then, its best live hypotheses, cut at ``max_len``
    without ``eos``, fill the remaining places, **after** every finished one (``complete`` is
    False for them): a cut output never outranks a finished one.

    ``alpha=0`` and ``beam_size=1`` is exactly :func:`greedy_decode`. Choose ``alpha`` on
    validation data. A beam wide enough never to prune (``beam_size`` at least the number of
    live prefixes) returns the exact best outputs.

    Returns a :class:`Decoded` with ``tokens (batch, n_best, T)``, ``lengths``, ``log_probs``,
    ``scores`` (``log_probs / lp``) and ``complete``, each ``(batch, n_best)``. ``state`` holds
    the rows on dim 0 (``batch_size`` of them) unless ``reorder`` handles it; it is repeated
    ``beam_size`` times per row, so the step sees ``batch_size * beam_size`` rows, row
    ``b * beam_size + k`` being hypothesis ``k`` of input ``b``.
    """
    _check_beam_args(batch_size, max_len, beam_size, n_best, alpha)
    reorder = reorder or _select_rows
    B, K = batch_size, beam_size
    device = torch.device(device) if device is not None else None
    state = reorder(state, torch.arange(B).repeat_interleave(K))           # (B*K, ...)
    tokens = torch.full((B * K,), sos, dtype=torch.long, device=device)
    total = torch.full((B, K), float("-inf"), device=device)
    total[:, 0] = 0.0                                                    # one hypothesis to start
    history = torch.zeros(B, K, 0, dtype=torch.long, device=device)
    finished = _Finished(B, n_best, alpha, max_len)
    for t in range(max_len):
        log_probs, state = step(tokens, state)
        _check_log_probs(log_probs, B * K)
        V = log_probs.size(1)
        if V < 2:
            raise ValueError(f"the vocabulary must hold at least 2 tokens (eos and another), got {V}")
        if device is None:  # follow the model's device from its first answer
            device = log_probs.device
            total, history = total.to(device), history.to(device)
        proposals = (total[..., None] + log_probs.float().view(B, K, V)).view(B, K * V)
        cand_total, index = proposals.topk(min(2 * K, K * V), dim=1)       # (B, 2K), best first
        parent, token = index // V, index % V                               # back-pointers
        is_eos = token == eos
        finished.add(cand_total[:, :K], parent[:, :K], is_eos[:, :K], history, t + 1, eos)
        live = is_eos.long().argsort(dim=1, stable=True)[:, :K]             # best K without eos
        total, parent, token = (x.gather(1, live) for x in (cand_total, parent, token))
        total = torch.where(token == eos, torch.full_like(total, float("-inf")), total)
        history = torch.cat([history.gather(1, parent[..., None].expand(-1, -1, history.size(2))),
                             token[..., None]], dim=2)
        if finished.update_done(total) or t + 1 == max_len:
            break
        rows = (torch.arange(B, device=device)[:, None] * K + parent).view(-1)
        state = reorder(state, rows)
        tokens = token.view(-1)
    return _best_outputs(finished, total, history, n_best, alpha, pad)


def _check_beam_args(batch_size: int, max_len: int, beam_size: int, n_best: int, alpha: float) -> None:
    _check_args(batch_size, max_len)
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    if not 1 <= n_best <= beam_size:
        raise ValueError(f"n_best must be between 1 and beam_size={beam_size}, got {n_best}")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0 (0: no length penalty), got {alpha}; a negative alpha "
                         "would favour short outputs beyond the model's own preference")


def _best_outputs(finished: _Finished, total: torch.Tensor, history: torch.Tensor, n_best: int,
                  alpha: float, pad: int) -> Decoded:
    """The ``n_best`` finished outputs of each input, best first, topped up with cut live ones."""
    device, length = total.device, history.size(2)
    lp = float(length_penalty(length, alpha))
    picked = []
    for b, row in enumerate(finished.rows):
        chosen = [(score, lp_total, seq, True) for score, lp_total, seq in sorted(row, key=lambda r: -r[0])]
        chosen = chosen[:n_best]
        live = total[b].tolist()
        for k in sorted(range(len(live)), key=lambda k: -live[k])[: n_best - len(chosen)]:
            chosen.append((live[k] / lp, live[k], history[b, k].tolist(), False))
        picked.append(chosen)
    T = max(len(seq) for row in picked for _, _, seq, _ in row)
    tokens = torch.full((len(picked), n_best, T), pad, dtype=torch.long)
    for b, row in enumerate(picked):
        for k, (_, _, seq, _) in enumerate(row):
            tokens[b, k, : len(seq)] = torch.tensor(seq, dtype=torch.long)
    field = lambda i, dtype: torch.tensor([[r[i] for r in row] for row in picked], dtype=dtype)  # noqa: E731
    lengths = torch.tensor([[len(r[2]) for r in row] for row in picked], dtype=torch.long)
    return Decoded(tokens.to(device), lengths.to(device), field(1, torch.float).to(device),
                   field(0, torch.float).to(device), field(3, torch.bool).to(device))
