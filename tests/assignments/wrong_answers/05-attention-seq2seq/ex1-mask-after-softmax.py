# The padding zeroed AFTER the softmax: the real weights no longer sum to 1.
# expect: sum of each row
def masked_additive_attention(query, keys, W_q, W_k, v, mask):
    scores = torch.tanh((query @ W_q)[:, None, :] + keys @ W_k) @ v
    weights = torch.softmax(scores, dim=1) * mask
    return torch.bmm(weights[:, None, :], keys)[:, 0], weights
