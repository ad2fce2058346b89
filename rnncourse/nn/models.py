"""The course's trained models that more than one chapter uses: one home for each.

``SentimentClassifier`` is chapter 6's IMDB classifier; chapter 8 saves, exports, quantises and
serves the same class (its state-dict keys are what a checkpoint of chapter 6 holds).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnncourse.nn.padded import final_states, run_padded

__all__ = ["SentimentClassifier"]


class SentimentClassifier(nn.Module):
    """Embedding -> RNN/GRU/LSTM (one or two directions) over the real steps -> features -> dropout -> one logit.

    Features: the top layer's final state of each direction, (B, D*H), and with `pooling` also the
    masked max and mean of the top layer's outputs over the real steps, (B, 3*D*H) in all.
    `pack=True` runs the layer on a packed batch; `pack=False` on the padded batch, each direction
    reading only real steps (`run_padded`): the same numbers, much faster on a CPU.
    forward(ids (B, T) long, lengths (B,) long) -> logits (B,).
    `lengths=None` means no padding (every row has T real steps): the layer then runs once over the
    whole batch, the route `torch.export` and ONNX export trace (no packing, no per-row lengths).
    """

    def __init__(self, vocab_size, embed_dim, hidden_size, *, cell="lstm", num_layers=1, bidirectional=True,
                 pooling=True, dropout=0.0, pad_index=0, pack=True):
        super().__init__()
        rnn = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_index)
        self.rnn = rnn(embed_dim, hidden_size, num_layers=num_layers, batch_first=True,
                       bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.directions = 2 if bidirectional else 1
        self.pooling = pooling
        self.pack = pack
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.directions * hidden_size * (3 if pooling else 1), 1)

    def forward(self, ids, lengths=None):
        embedded = self.dropout(self.embedding(ids))                                    # (B, T, E)
        if lengths is None:                                                            # no padding
            out, h_n = self.rnn(embedded)                                              # (B, T, D*H)
            h_n = h_n[0] if isinstance(h_n, tuple) else h_n
            final = torch.cat(list(h_n[-self.directions:]), dim=1)                     # (B, D*H)
            features = [final]
            if self.pooling:
                features += [out.amax(dim=1), out.mean(dim=1)]
            return self.fc(self.dropout(torch.cat(features, dim=1))).squeeze(1)
        if self.pack:
            packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
            output, h_n = self.rnn(packed)
            out, _ = pad_packed_sequence(output, batch_first=True)                     # (B, T', D*H), zeros after L
            h_n = h_n[0] if isinstance(h_n, tuple) else h_n                            # LSTM: (h_n, c_n)
            final = torch.cat(list(h_n[-self.directions:]), dim=1)                     # (B, D*H): h_L fwd, h_1 bwd
        else:
            out = run_padded(self.rnn, embedded, lengths)                              # (B, T, D*H), real steps exact
            final = final_states(out, lengths, self.directions)                        # (B, D*H)
        features = [final]
        if self.pooling:
            lengths = lengths.to(out.device)
            real = (torch.arange(out.size(1), device=out.device)[None, :] < lengths[:, None])[..., None]  # (B, T', 1)
            features.append(out.masked_fill(~real, float("-inf")).amax(dim=1))        # max over real steps
            features.append(out.masked_fill(~real, 0.0).sum(dim=1) / lengths[:, None].to(out.dtype))  # mean
        return self.fc(self.dropout(torch.cat(features, dim=1))).squeeze(1)
