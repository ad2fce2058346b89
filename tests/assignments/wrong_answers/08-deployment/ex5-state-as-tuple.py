# Returns the LSTM's state as the model does, one (h, c) tuple, which an exporter cannot pass out.
# expect: each a tensor
class RecurrentStep(nn.Module):
    def __init__(self, lm):
        super().__init__()
        self.lm = lm.eval()

    def forward(self, token, h, c=None):
        logits, state = self.lm(token, (h, c) if self.lm.cell == "lstm" else h)
        return logits[:, -1], state
