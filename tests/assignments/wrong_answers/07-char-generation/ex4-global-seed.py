# The global generator seeded from the one given, then drawn from: fixed draws for a fixed seed,
# but every other random draw of the caller changes.
# expect: global random generator
def sample_next(logits, temperature=1.0, top_k=None, generator=None):
    if temperature == 0:
        return logits.argmax(dim=-1)
    scores = logits / temperature
    if top_k is not None:
        kept = scores.topk(top_k, dim=-1).indices
        scores = torch.full_like(scores, float("-inf")).scatter(-1, kept, scores.gather(-1, kept))
    torch.manual_seed(generator.initial_seed())
    return torch.multinomial(scores.softmax(dim=-1), 1).squeeze(-1)
