"""Contiguous batches for truncated backpropagation through time (TBPTT) over one long sequence.

The sequence ``data`` (length ``N``) is cut into ``batch_size`` equal streams laid side by side,
and each batch is the next ``bptt`` steps of every stream::

    data  = a b c d e f g h i j k l m n o p q r s t u v w x y       N = 25, batch_size = 3
    S = (N - 1) // batch_size = 8 steps per stream (the target is the next id, hence N - 1)

    stream 0: a b c d e f g h     targets: b c d e f g h i
    stream 1: i j k l m n o p              j k l m n o p q
    stream 2: q r s t u v w x              r s t u v w x y

    bptt = 3:  batch 0 = columns 0..2, batch 1 = columns 3..5, batch 2 = columns 6..7

Row ``r`` of batch ``k + 1`` continues row ``r`` of batch ``k`` exactly where it stopped, so the
model's final state after batch ``k`` is the right starting state for batch ``k + 1`` (carry it,
``detach`` it so gradients stop at the batch boundary). In one pass every one of the first
``batch_size * S`` ids is an input exactly once, in order along its stream; the last
``(N - 1) mod batch_size`` ids (fewer than ``batch_size``) are left out. Compare sliding windows
with stride 1, which show every id ``seq_len`` times per pass and never carry a state.
"""

from __future__ import annotations

from typing import Iterator

import torch

__all__ = ["ContiguousBatches"]


class ContiguousBatches:
    """Iterate ``(x, y)`` batches, each ``LongTensor (batch_size, bptt)`` (the last may be
    shorter in time), ``y`` being ``x`` shifted by one step along the text.

    Args:
        data: ``(N,)`` ids, e.g. ``TinyShakespeare("train").data``.
        batch_size: number of parallel streams ``B``.
        bptt: time steps per batch (the truncation length).

    Attributes:
        streams: ``(B, S)`` the inputs laid out as streams; ``targets`` the same shifted by one.

    ``len`` is the number of batches per pass, ``ceil(S / bptt)``. Every pass gives the same
    batches in the same order (the order is the point); pass it to ``rnncourse.train.fit`` as the
    loader with a step that carries the hidden state (see ``rnncourse.train``).
    """

    def __init__(self, data: torch.Tensor, batch_size: int, bptt: int) -> None:
        data = torch.as_tensor(data)
        if data.dim() != 1:
            raise ValueError(f"data must be one sequence of ids, shape (N,), got {tuple(data.shape)}.")
        if batch_size < 1 or bptt < 1:
            raise ValueError(f"batch_size and bptt must be at least 1, got {batch_size} and {bptt}.")
        steps = (len(data) - 1) // batch_size
        if steps < 1:
            raise ValueError(f"{len(data)} ids are too few for {batch_size} streams: each needs at least "
                             "one input and its next id.")
        self.batch_size, self.bptt, self.steps = batch_size, bptt, steps
        used = batch_size * steps
        self.streams = data[:used].reshape(batch_size, steps)
        self.targets = data[1:used + 1].reshape(batch_size, steps)

    def __len__(self) -> int:
        return -(-self.steps // self.bptt)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start in range(0, self.steps, self.bptt):
            yield self.streams[:, start:start + self.bptt], self.targets[:, start:start + self.bptt]
