# Zeroes the padding losses but divides by batch * T.
# expect: divided by batch \* T
def masked_cross_entropy(logits, targets, lengths):
    batch, T, classes = logits.shape
    mask = torch.arange(T)[None, :] < torch.as_tensor(lengths)[:, None]
    per_token = F.cross_entropy(logits.reshape(-1, classes), targets.masked_fill(~mask, 0).reshape(-1),
                                reduction="none").view(batch, T)
    return per_token.masked_fill(~mask, 0.0).mean()
