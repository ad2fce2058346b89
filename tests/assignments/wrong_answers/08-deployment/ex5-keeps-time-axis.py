# Returns the logits of the whole (one-token) input, (B, 1, V), not the scores of its last position.
# expect: the logits of one step
class RecurrentStep(nn.Module):
    def __init__(self, lm):
        super().__init__()
        self.lm = lm.eval()

    def forward(self, token, h, c=None):
        logits, state = self.lm(token, (h, c) if self.lm.cell == "lstm" else h)
        if self.lm.cell == "lstm":
            return logits, state[0], state[1]
        return logits, state
