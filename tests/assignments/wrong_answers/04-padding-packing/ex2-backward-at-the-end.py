# Reads the backward half at the last real step too.
# expect: where the backward direction starts
def last_hidden_bidirectional(output, lengths):
    lengths = torch.as_tensor(lengths)
    return output[torch.arange(output.shape[0]), lengths - 1]
