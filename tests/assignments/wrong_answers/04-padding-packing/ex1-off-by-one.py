# Indexes with lengths instead of lengths - 1.
# expect: the steps are counted from 0
def last_hidden(output, lengths):
    lengths = torch.as_tensor(lengths)
    return output[torch.arange(output.shape[0]), lengths]
