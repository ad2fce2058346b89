# Averages each sequence, then the batch.
# expect: the mean of each sequence's mean
def masked_cross_entropy(logits, targets, lengths):
    lengths = torch.as_tensor(lengths)
    return torch.stack([F.cross_entropy(logits[b, :L], targets[b, :L]) for b, L in enumerate(lengths.tolist())]).mean()
