# Zeroes the padding but divides by T.
# expect: divided by T instead of by the length
def masked_mean(output, lengths):
    lengths = torch.as_tensor(lengths)
    mask = torch.arange(output.shape[1])[None, :] < lengths[:, None]
    return output.masked_fill(~mask[:, :, None], 0.0).sum(1) / output.shape[1]
