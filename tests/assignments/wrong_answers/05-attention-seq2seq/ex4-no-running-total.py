# Proposals ranked by the new token's log-probability only, forgetting the hypothesis's total.
def beam_step(total, log_probs, finished, pad):
    B, K, V = log_probs.shape
    frozen = torch.full_like(log_probs, float("-inf"))
    frozen[..., pad] = 0.0
    log_probs = torch.where(finished[..., None], frozen, log_probs)
    _, index = log_probs.reshape(B, K * V).topk(K, dim=1)
    parent, token = index // V, index % V
    return total.gather(1, parent) + log_probs.reshape(B, K * V).gather(1, index), parent, token
