# Returns the LSTM's new state as (c, h): the next call reads the cell as the hidden state.
# expect: h after step 1
class RecurrentStep(nn.Module):
    def __init__(self, lm):
        super().__init__()
        self.lm = lm.eval()

    def forward(self, token, h, c=None):
        logits, state = self.lm(token, (h, c) if self.lm.cell == "lstm" else h)
        if self.lm.cell == "lstm":
            return logits[:, -1], state[1], state[0]
        return logits[:, -1], state
