"""Recurrent layers on right-padded batches, with exactly the results of a packed run.

::

    from rnncourse.nn.padded import run_padded, final_states
    out = run_padded(lstm, x, lengths)               # (B, T, D*H), exact at every real step
    h = final_states(out, lengths, directions=2)     # (B, 2H): [h_L forward ; h_1 backward]

Why: on a GPU, cuDNN runs a ``PackedSequence`` natively. On a CPU, PyTorch runs a packed layer step
by step, and its backward pass grows much faster than the number of steps as soon as the lengths
in a batch differ (pytorch/pytorch issue 149194). ``benchmarks/packing.py`` measures one forward +
backward pass of a BiLSTM of 128 units over 64 sequences both ways; its results files
(``benchmarks/results/packing-cpu-*.json``) hold the times, which at the longest length measured
put the packed route more than an order of magnitude behind the padded one, and an equal-length control
(all lengths equal, packed) that costs about what the padded route costs: the unequal lengths, not
packing itself, are what is slow.

Steps are counted from 1, as in the book: step ``t`` of a batch-first tensor is ``x[:, t - 1]``.

How: padding sits after each sequence. A forward direction reaches every real step before any
padding, so its outputs there are already right. A backward direction would read the padding
first, so it reads each sequence reversed within its length (padding left at the end), and its
outputs are reversed back. Each direction of each layer runs on its own, with that layer's own
weights, through ``torch.func.functional_call`` on a one-layer, one-direction template. Outputs at
padded steps are garbage: mask them (``lengths``) before pooling.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["reverse_within_length", "run_padded", "final_states"]

_WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``x`` (B, T, F) with the first ``lengths[b]`` steps of each row reversed, padding in place.

    Applying it twice gives ``x`` back. ``lengths``: (B,) integers, on any device.
    """
    if x.dim() != 3:
        raise ValueError(f"x must be (batch, seq_len, features); got shape {tuple(x.shape)}")
    lengths = torch.as_tensor(lengths, device=x.device)
    if lengths.shape != (x.size(0),):
        raise ValueError(f"lengths must hold one length per sequence, shape ({x.size(0)},); got {tuple(lengths.shape)}")
    if len(lengths) and (lengths.min() < 1 or lengths.max() > x.size(1)):
        raise ValueError(f"every length must be between 1 and seq_len={x.size(1)}; got {lengths.tolist()}")
    steps = torch.arange(x.size(1), device=x.device)[None, :]                  # (1, T)
    last = lengths[:, None] - 1                                                 # (B, 1)
    index = torch.where(steps <= last, last - steps, steps)                     # (B, T)
    return x.gather(1, index[..., None].expand_as(x))


def run_padded(rnn: nn.RNNBase, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """The top layer's outputs of ``rnn`` on the right-padded ``x``, as a packed run would give them.

    ``rnn``: an ``nn.RNN``, ``nn.GRU`` or ``nn.LSTM`` with ``batch_first=True`` (any number of
    layers, one or two directions, no ``proj_size``). ``x``: (B, T, E); ``lengths``: (B,).
    Returns (B, T, D*H); the steps after ``lengths[b]`` hold garbage. Dropout between layers is
    applied as ``rnn`` applies it, in training mode only.
    """
    if not isinstance(rnn, (nn.RNN, nn.GRU, nn.LSTM)) or not rnn.batch_first:
        raise ValueError("run_padded needs an nn.RNN, nn.GRU or nn.LSTM built with batch_first=True")
    if getattr(rnn, "proj_size", 0):
        raise ValueError("run_padded does not support an LSTM with proj_size")
    if not rnn.bias:
        raise ValueError("run_padded needs a layer with biases (bias=True, the default)")
    if not rnn.bidirectional:
        return rnn(x)[0]                    # one direction never reads padding before a real step
    extra = {"nonlinearity": rnn.nonlinearity} if isinstance(rnn, nn.RNN) else {}
    for layer in range(rnn.num_layers):
        template = type(rnn)(x.size(2), rnn.hidden_size, batch_first=True, device="meta", **extra)
        outputs = []
        for suffix, reverse in (("", False), ("_reverse", True)):
            weights = {f"{name}_l0": getattr(rnn, f"{name}_l{layer}{suffix}") for name in _WEIGHTS}
            inputs = reverse_within_length(x, lengths) if reverse else x
            out, _ = torch.func.functional_call(template, weights, (inputs,))
            outputs.append(reverse_within_length(out, lengths) if reverse else out)
        x = torch.cat(outputs, dim=2)                                           # (B, T, 2H)
        if layer < rnn.num_layers - 1:
            x = nn.functional.dropout(x, rnn.dropout, rnn.training)
    return x


def final_states(out: torch.Tensor, lengths: torch.Tensor, directions: int) -> torch.Tensor:
    """The final hidden state of each direction, (B, D*H), from outputs (B, T, D*H) that are exact at
    the real steps (``run_padded``'s): the forward half at step ``lengths[b]``, the backward half
    at step 1. For an LSTM this is ``h_n`` of a packed run (not the cell state ``c_n``)."""
    if directions not in (1, 2):
        raise ValueError(f"directions must be 1 or 2; got {directions}")
    lengths = torch.as_tensor(lengths, device=out.device)
    last = out[torch.arange(out.size(0), device=out.device), lengths - 1]     # (B, D*H)
    if directions == 1:
        return last
    half = out.size(2) // 2
    return torch.cat([last[:, :half], out[:, 0, half:]], dim=1)
