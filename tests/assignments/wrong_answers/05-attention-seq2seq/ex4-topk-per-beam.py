# Each hypothesis keeps its own best token (top-1 per beam) instead of ranking K x V proposals.
# expect: parent, token
def beam_step(total, log_probs, finished, pad):
    B, K, V = log_probs.shape
    frozen = torch.full_like(log_probs, float("-inf"))
    frozen[..., pad] = 0.0
    log_probs = torch.where(finished[..., None], frozen, log_probs)
    best, token = (total[..., None] + log_probs).max(dim=-1)
    new_total, order = best.sort(dim=1, descending=True)
    return new_total, order, token.gather(1, order)
