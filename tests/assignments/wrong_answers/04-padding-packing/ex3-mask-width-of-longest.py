# Builds the mask max(lengths) wide: breaks when the padded batch is wider than its longest sequence.
# expect: wider than its longest sequence
def masked_mean(output, lengths):
    lengths = torch.as_tensor(lengths)
    mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
    return (output * mask[:, :, None]).sum(1) / lengths[:, None]
