# Every hypothesis's eos proposal counted as finished, however low it ranks.
# expect: ended
def beam_step(total, log_probs, eos):
    B, K, V = log_probs.shape
    proposals = total[..., None] + log_probs
    live = proposals.clone()
    live[..., eos] = float("-inf")
    new_total, index = live.reshape(B, K * V).topk(K, dim=1)
    return new_total, index // V, index % V, proposals[..., eos].clone()
