# Reads h_n[0] and h_n[1]: the first layer's states.
# expect: logits for a 2-layer model
def _forward(self, x, lengths):
    packed = pack_padded_sequence(self.embedding(x), lengths.cpu(), batch_first=True, enforce_sorted=False)
    _, (h_n, _) = self.rnn(packed)
    return self.fc(self.dropout(torch.cat([h_n[0], h_n[1]], dim=1))).squeeze(1)


SentimentRNN.forward = _forward
