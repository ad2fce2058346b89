# The softmax taken over the batch dimension instead of the source positions.
def masked_additive_attention(query, keys, W_q, W_k, v, mask):
    scores = torch.tanh((query @ W_q)[:, None, :] + keys @ W_k) @ v
    scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=0)
    return torch.bmm(weights[:, None, :], keys)[:, 0], weights
