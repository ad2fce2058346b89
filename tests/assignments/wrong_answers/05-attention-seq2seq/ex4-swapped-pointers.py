# Back-pointer and token read the wrong way round from the flat index.
# expect: parent, token
def beam_step(total, log_probs, eos):
    B, K, V = log_probs.shape
    proposals = total[..., None] + log_probs
    kth = proposals.reshape(B, K * V).topk(K, dim=1).values[:, -1:]
    ended = torch.where(proposals[..., eos] >= kth, proposals[..., eos], torch.full_like(total, float("-inf")))
    live = proposals.clone()
    live[..., eos] = float("-inf")
    new_total, index = live.reshape(B, K * V).topk(K, dim=1)
    return new_total, index % V, index // V, ended
