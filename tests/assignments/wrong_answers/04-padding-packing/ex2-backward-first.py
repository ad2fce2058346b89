# Puts the backward half first.
# expect: the backward half first
def last_hidden_bidirectional(output, lengths):
    hidden = output.shape[-1] // 2
    lengths = torch.as_tensor(lengths)
    forward = output[torch.arange(output.shape[0]), lengths - 1, :hidden]
    return torch.cat([output[:, 0, hidden:], forward], dim=1)
