# The next beam is what is left of the K best once the eos proposals leave: it shrinks.
# expect: parent, token
def beam_step(total, log_probs, eos):
    B, K, V = log_probs.shape
    proposals = total[..., None] + log_probs
    new_total, index = proposals.reshape(B, K * V).topk(K, dim=1)
    parent, token = index // V, index % V
    with_eos = proposals[..., eos]
    ended = torch.where(with_eos >= new_total[:, -1:], with_eos, torch.full_like(with_eos, float("-inf")))
    new_total = new_total.masked_fill(token == eos, float("-inf"))
    return new_total, parent, token, ended
