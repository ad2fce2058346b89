# The generator not passed on: the draws follow the global random state, not the given seed.
# expect: global random generator
def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    if temperature == 0:
        return logits.argmax(dim=-1)
    scores = logits / temperature
    if top_k is not None:
        kept = scores.topk(top_k, dim=-1).indices
        scores = torch.full_like(scores, float("-inf")).scatter(-1, kept, scores.gather(-1, kept))
    return torch.multinomial(scores.softmax(dim=-1), 1).squeeze(-1)
