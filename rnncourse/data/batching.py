"""Batches of variable-length sequences: padding with lengths, and bucketing by length.

::

    loader = DataLoader(
        encoded,                                          # items (ids, label)
        batch_sampler=BucketBatchSampler([len(ids) for ids, _ in encoded], batch_size=64),
        collate_fn=pad_collate,
    )
    for padded, labels, lengths in loader:                # (batch, max_len), (batch,), (batch,)
        packed = pack_padded_sequence(embed(padded), lengths, batch_first=True, enforce_sorted=False)
"""

from __future__ import annotations

import math
from typing import Iterator, Sequence

import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import Sampler

__all__ = ["BucketBatchSampler", "pad_collate", "LABEL_PAD"]

LABEL_PAD = -100
"""Padding of sequence labels: ``nn.CrossEntropyLoss`` ignores targets equal to -100 by default."""


def _as_tensor(sequence, what: str, position: int) -> torch.Tensor:
    tensor = torch.as_tensor(sequence)
    if tensor.dim() == 0:
        raise ValueError(f"{what} of example {position} is a single number; expected a sequence.")
    return tensor


def pad_collate(batch, *, pad_index: int = 0, batch_first: bool = True):
    """Collate ``(ids, label)`` examples of different lengths into one padded batch.

    Args:
        batch: a list of ``(ids, label)``; ``ids`` is a list or 1-D tensor of token indices (or a
            ``(length, features)`` tensor); ``label`` a number, or a sequence of per-step labels.
        pad_index: the value written after each sequence's end.
        batch_first: ``True``: padded is ``(batch, max_len)``; ``False``: ``(max_len, batch)``.

    Returns:
        ``(padded, labels, lengths)``:
        ``padded``  ``(batch, max_len[, features])``, the dtype of the ids (int64 for lists of ints);
        ``labels``  ``(batch,)``: int64 for integer labels, float32 for float labels; per-step
                    labels are padded to ``(batch, max_len)`` with ``LABEL_PAD = -100``, the value
                    ``nn.CrossEntropyLoss`` ignores (order follows ``batch_first``);
        ``lengths`` ``(batch,)`` int64 on the CPU, as ``pack_padded_sequence`` requires, even when
                    the batch later moves to a GPU.

    An empty sequence is an error: an RNN has no last state for it and packing rejects it.
    """
    if len(batch) == 0:
        raise ValueError("pad_collate got an empty batch.")
    sequences = [_as_tensor(ids, "ids", i) for i, (ids, _) in enumerate(batch)]
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
    if (lengths == 0).any():
        empty = (lengths == 0).nonzero().flatten().tolist()
        raise ValueError(f"examples {empty} of the batch are empty; drop or fill them before batching.")
    padded = pad_sequence(sequences, batch_first=batch_first, padding_value=pad_index)

    labels = [label for _, label in batch]
    first = torch.as_tensor(labels[0])
    if first.dim() == 0:
        stacked = torch.stack([torch.as_tensor(y) for y in labels])
        dtype = torch.float32 if stacked.is_floating_point() else torch.int64
        return padded, stacked.to(dtype), lengths
    label_sequences = [_as_tensor(y, "label", i) for i, y in enumerate(labels)]
    dtype = torch.float32 if label_sequences[0].is_floating_point() else torch.int64
    label_sequences = [y.to(dtype) for y in label_sequences]
    padded_labels = pad_sequence(label_sequences, batch_first=batch_first, padding_value=LABEL_PAD)
    return padded, padded_labels, lengths


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of indices whose sequences have similar lengths, so little padding is computed.

    Each pass (epoch): the indices are shuffled, cut into pools of
    ``batch_size * bucket_size_multiplier``, each pool is sorted by length and cut into batches,
    and the batches are shuffled. Every index appears exactly once per pass (with ``drop_last``,
    the one short batch is left out). With ``shuffle=False`` the indices are sorted by length over
    the whole dataset (the least padding; for evaluation).

    Pass ``k`` uses the seed ``seed + k``, ``k`` counting from 0 and advancing by itself after each
    pass; ``set_epoch(e)`` sets it (as for ``DistributedSampler``), so runs are reproducible.

    Use it as ``DataLoader(dataset, batch_sampler=sampler, collate_fn=pad_collate)``.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        bucket_size_multiplier: int = 50,
    ) -> None:
        super().__init__()
        if batch_size < 1 or bucket_size_multiplier < 1:
            raise ValueError(f"batch_size and bucket_size_multiplier must be at least 1, got {batch_size} and {bucket_size_multiplier}.")
        self.lengths = torch.as_tensor(lengths, dtype=torch.int64).flatten()
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.bucket_size_multiplier = bucket_size_multiplier
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass use the order of epoch ``epoch``."""
        self.epoch = epoch

    def _batches(self, epoch: int) -> list[list[int]]:
        n = len(self.lengths)
        if not self.shuffle:
            order = torch.argsort(self.lengths, stable=True)
            batches = list(order.split(self.batch_size))
        else:
            g = torch.Generator().manual_seed(self.seed + epoch)
            order = torch.randperm(n, generator=g)
            batches = []
            for pool in order.split(self.batch_size * self.bucket_size_multiplier):
                by_length = pool[torch.argsort(self.lengths[pool], stable=True)]
                batches.extend(by_length.split(self.batch_size))
            batches = [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]
        if self.drop_last:
            batches = [b for b in batches if len(b) == self.batch_size]
        return [b.tolist() for b in batches]

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._batches(self.epoch)
        self.epoch += 1
        return iter(batches)

    def __len__(self) -> int:
        n = len(self.lengths)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
