# Forgets the dropout.
# expect: no dropout on the final states
def _forward(self, x, lengths):
    packed = pack_padded_sequence(self.embedding(x), lengths.cpu(), batch_first=True, enforce_sorted=False)
    _, (h_n, _) = self.rnn(packed)
    return self.fc(torch.cat([h_n[-2], h_n[-1]], dim=1)).squeeze(1)


SentimentRNN.forward = _forward
