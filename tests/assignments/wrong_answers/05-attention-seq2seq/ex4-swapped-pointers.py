# Back-pointer and token read the wrong way round from the flat index.
# expect: parent, token
def beam_step(total, log_probs, finished, pad):
    B, K, V = log_probs.shape
    frozen = torch.full_like(log_probs, float("-inf"))
    frozen[..., pad] = 0.0
    log_probs = torch.where(finished[..., None], frozen, log_probs)
    new_total, index = (total[..., None] + log_probs).reshape(B, K * V).topk(K, dim=1)
    return new_total, index % V, index // V
