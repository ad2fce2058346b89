"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?"): gates that read only the input.

A GRU's gates read ``h_{t-1}``, so step ``t`` must wait for step ``t-1``. Dropping that
dependence leaves a linear recurrence in ``h`` that :mod:`rnncourse.nn.scan` computes for all
steps at once. With ``x (batch, T, D)`` and ``H`` hidden units::

    minGRU   z_t = sigmoid(W_z x_t + b_z)        h~_t = g(W_h x_t + b_h)
             h_t = (1 - z_t) * h_{t-1} + z_t * h~_t

    minLSTM  f_t = sigmoid(W_f x_t + b_f)        i_t = sigmoid(W_i x_t + b_i)
             f'_t, i'_t = f_t / (f_t + i_t), i_t / (f_t + i_t)      (they sum to 1)
             h_t = f'_t * h_{t-1} + i'_t * g(W_h x_t + b_h)

``g(v) = v + 1/2`` for ``v >= 0`` and ``sigmoid(v)`` below: positive, so every state is positive
and the parallel mode works in log space (:func:`~rnncourse.nn.scan.log_scan`), as the paper's
code does. ``mode="sequential"`` runs the same equations one step at a time (generation);
``mode="parallel"`` runs the scan (training). Both give the same states to float64 rounding.
A minGRU layer has ``2 H (D + 1)`` parameters (a GRU: ``3 H (D + H + 2)``); a minLSTM
``3 H (D + 1)`` (an LSTM: ``4 H (D + H + 2)``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rnncourse.nn.scan import log_scan

__all__ = ["MinGRU", "MinLSTM", "MinRNNBlock", "MinRNNLM", "g", "log_g"]

MODES = ("parallel", "sequential")


def g(v: torch.Tensor) -> torch.Tensor:
    """``v + 1/2`` for ``v >= 0``, ``sigmoid(v)`` below: continuous, positive, increasing."""
    return torch.where(v >= 0, v + 0.5, torch.sigmoid(v))


def log_g(v: torch.Tensor) -> torch.Tensor:
    """``log g(v)`` computed without forming ``g(v)`` for very negative ``v``."""
    return torch.where(v >= 0, torch.log(F.relu(v) + 0.5), -F.softplus(-v))


class _MinRNN(nn.Module):
    """What minGRU and minLSTM share: one projection of the input, two modes, positive states."""

    def __init__(self, input_size: int, hidden_size: int, n_parts: int) -> None:
        super().__init__()
        if min(input_size, hidden_size) < 1:
            raise ValueError(f"input_size and hidden_size must be at least 1, got {input_size} and {hidden_size}.")
        self.input_size, self.hidden_size = input_size, hidden_size
        self.linear = nn.Linear(input_size, n_parts * hidden_size)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None, *,
                mode: str = "parallel") -> tuple[torch.Tensor, torch.Tensor]:
        """``x (batch, T, D)``, ``h0 (batch, H)`` or ``None`` (zeros) -> ``(h (batch, T, H), h_T)``."""
        if mode not in MODES:
            raise ValueError(f"mode must be 'parallel' or 'sequential', got {mode!r}.")
        if x.dim() != 3 or x.shape[-1] != self.input_size or x.shape[1] < 1:
            raise ValueError(f"{type(self).__name__} expects x of shape (batch, T >= 1, {self.input_size}), "
                             f"got {tuple(x.shape)}.")
        if h0 is not None:
            if h0.shape != (x.shape[0], self.hidden_size):
                raise ValueError(f"h0 must be (batch, hidden_size) = {(x.shape[0], self.hidden_size)}, "
                                 f"got {tuple(h0.shape)}.")
            if bool((h0 < 0).any()):
                raise ValueError("h0 has negative entries: this layer's states are positive (its log-space "
                                 "scan needs that); start from None (zeros) or from a state it returned.")
        parts = self.linear(x).chunk(self.n_parts, dim=-1)            # each (batch, T, H)
        if mode == "parallel":
            log_a, log_b = self._log_coefficients(*parts)
            h = log_scan(log_a, log_b, None if h0 is None else torch.log(h0))
        else:
            a, b = self._coefficients(*parts)
            state = torch.zeros_like(b[:, 0]) if h0 is None else h0
            states = []
            for a_t, b_t in zip(a.unbind(1), b.unbind(1)):     # see scan.sequential_scan
                state = a_t * state + b_t
                states.append(state)
            h = torch.stack(states, dim=1)
        return h, h[:, -1]

    @property
    def n_parts(self) -> int:
        return self.linear.out_features // self.hidden_size


class MinGRU(_MinRNN):
    """A minGRU layer. ``forward(x, h0=None, *, mode="parallel")`` -> ``(h (batch, T, H), h_T (batch, H))``."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size, 2)

    @staticmethod
    def _coefficients(k, v):
        z = torch.sigmoid(k)
        return 1 - z, z * g(v)

    @staticmethod
    def _log_coefficients(k, v):
        return -F.softplus(k), -F.softplus(-k) + log_g(v)        # log(1 - z), log(z g(v))


class MinLSTM(_MinRNN):
    """A minLSTM layer. ``forward(x, h0=None, *, mode="parallel")`` -> ``(h (batch, T, H), h_T (batch, H))``."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size, 3)

    @staticmethod
    def _coefficients(kf, ki, v):
        f, i = torch.sigmoid(kf), torch.sigmoid(ki)
        return f / (f + i), i / (f + i) * g(v)

    @staticmethod
    def _log_coefficients(kf, ki, v):
        diff = F.softplus(-kf) - F.softplus(-ki)                  # log i - log f
        return -F.softplus(diff), -F.softplus(-diff) + log_g(v)   # log f', log(i' g(v))


class MinRNNBlock(nn.Module):
    """A pre-norm residual block: ``x + W_o cell(LN(x))``, then ``x + MLP(LN(x))``.

    ``x (batch, T, dim)``; the cell's state is ``(batch, dim)``. ``cell`` is ``"gru"`` or
    ``"lstm"`` (minGRU or minLSTM); the MLP widens to ``mlp_ratio * dim`` with a GELU.
    """

    def __init__(self, dim: int, cell: str = "gru", mlp_ratio: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be 'gru' or 'lstm', got {cell!r}.")
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.cell = (MinGRU if cell == "gru" else MinLSTM)(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None, *,
                mode: str = "parallel") -> tuple[torch.Tensor, torch.Tensor]:
        h, h_last = self.cell(self.norm1(x), h0, mode=mode)
        x = x + self.drop(self.out(h))
        return x + self.drop(self.mlp(self.norm2(x))), h_last


class MinRNNLM(nn.Module):
    """Embedding -> ``num_layers`` :class:`MinRNNBlock` -> LayerNorm -> linear scores.

    The interface of :class:`~rnncourse.nn.language_model.CharLM` with a GRU, so chapter 7's
    training step and :func:`~rnncourse.nn.language_model.generate` work unchanged:
    ``forward(x, state=None, *, mode="parallel")`` with ``x LongTensor (batch, seq_len)`` returns
    ``(logits (batch, seq_len, V), state (num_layers, batch, dim))``.
    """

    def __init__(self, vocab_size: int, dim: int, num_layers: int = 2, cell: str = "gru",
                 mlp_ratio: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        if min(vocab_size, dim, num_layers, mlp_ratio) < 1:
            raise ValueError("vocab_size, dim, num_layers and mlp_ratio must all be at least 1.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        self.vocab_size, self.dim, self.num_layers = vocab_size, dim, num_layers
        self.embed = nn.Embedding(vocab_size, dim)
        self.blocks = nn.ModuleList(MinRNNBlock(dim, cell, mlp_ratio, dropout) for _ in range(num_layers))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab_size)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None, *,
                mode: str = "parallel") -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 2:
            raise ValueError(f"MinRNNLM expects ids of shape (batch, seq_len), got {tuple(x.shape)}.")
        if state is not None and state.shape != (self.num_layers, x.shape[0], self.dim):
            raise ValueError(f"state must be (num_layers, batch, dim) = {(self.num_layers, x.shape[0], self.dim)}, "
                             f"got {tuple(state.shape)}.")
        out, finals = self.drop(self.embed(x)), []
        for k, block in enumerate(self.blocks):
            out, h_last = block(out, None if state is None else state[k], mode=mode)
            finals.append(h_last)
        return self.head(self.norm(out)), torch.stack(finals)
