# The top-k ids found but the draw made from the full distribution.
# expect: outside the top
def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = (logits / temperature).softmax(dim=-1)
    if top_k is not None:
        _ = probs.topk(top_k, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)
