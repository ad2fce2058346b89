# Each hypothesis keeps its own best token (top-1 per beam) instead of ranking K x V proposals.
# expect: parent, token
def beam_step(total, log_probs, eos):
    B, K, V = log_probs.shape
    proposals = total[..., None] + log_probs
    kth = proposals.reshape(B, K * V).topk(K, dim=1).values[:, -1:]
    ended = torch.where(proposals[..., eos] >= kth, proposals[..., eos], torch.full_like(total, float("-inf")))
    live = proposals.clone()
    live[..., eos] = float("-inf")
    best, token = live.max(dim=-1)
    new_total, order = best.sort(dim=1, descending=True)
    return new_total, order, token.gather(1, order), ended
