# Proposals ending in eos stay in the beam (the old design): they take places live hypotheses need.
# expect: parent, token
def beam_step(total, log_probs, eos):
    B, K, V = log_probs.shape
    proposals = total[..., None] + log_probs
    new_total, index = proposals.reshape(B, K * V).topk(K, dim=1)
    with_eos = proposals[..., eos]
    ended = torch.where(with_eos >= new_total[:, -1:], with_eos, torch.full_like(with_eos, float("-inf")))
    return new_total, index // V, index % V, ended
