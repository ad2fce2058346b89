# Proposals ranked by the new token's log-probability only, forgetting the hypothesis's total.
def beam_step(total, log_probs, eos):
    B, K, V = log_probs.shape
    live = log_probs.clone()
    live[..., eos] = float("-inf")
    _, index = live.reshape(B, K * V).topk(K, dim=1)
    parent, token = index // V, index % V
    new_total = total.gather(1, parent) + log_probs.reshape(B, K * V).gather(1, index)
    proposals = total[..., None] + log_probs
    kth = proposals.reshape(B, K * V).topk(K, dim=1).values[:, -1:]
    ended = torch.where(proposals[..., eos] >= kth, proposals[..., eos], torch.full_like(total, float("-inf")))
    return new_total, parent, token, ended
