# Back-pointers from true division, floored: right values, but float tensors where indices are asked.
# expect: dtype of parent
def beam_step(total, log_probs, eos):
    B, K, V = log_probs.shape
    proposals = total[..., None] + log_probs
    kth = proposals.reshape(B, K * V).topk(K, dim=1).values[:, -1:]
    ended = torch.where(proposals[..., eos] >= kth, proposals[..., eos], torch.full_like(total, float("-inf")))
    live = proposals.clone()
    live[..., eos] = float("-inf")
    new_total, index = live.reshape(B, K * V).topk(K, dim=1)
    return new_total, (index / V).floor(), index % V, ended
