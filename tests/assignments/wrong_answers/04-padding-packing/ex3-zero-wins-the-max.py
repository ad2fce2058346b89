# Zeroes the padding before the max: with negative outputs a padding zero wins.
# expect: a zero beats negative outputs
def masked_max(output, lengths):
    lengths = torch.as_tensor(lengths)
    mask = torch.arange(output.shape[1])[None, :] < lengths[:, None]
    return output.masked_fill(~mask[:, :, None], 0.0).max(1).values
