# One top-k threshold for the whole batch (the smallest k-th value of any row), not one per row.
# expect: outside the top \d+ of row|more than top_k
def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    if temperature == 0:
        return logits.argmax(dim=-1)
    scores = logits / temperature
    if top_k is not None:
        threshold = scores.topk(top_k, dim=-1).values[:, -1].min()
        scores = scores.masked_fill(scores < threshold, float("-inf"))
    return torch.multinomial(scores.softmax(dim=-1), 1, generator=generator).squeeze(-1)
