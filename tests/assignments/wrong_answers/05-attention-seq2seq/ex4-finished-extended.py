# Finished hypotheses are extended like live ones (they keep growing and can fill several places).
# expect: parent, token
def beam_step(total, log_probs, finished, pad):
    B, K, V = log_probs.shape
    new_total, index = (total[..., None] + log_probs).reshape(B, K * V).topk(K, dim=1)
    return new_total, index // V, index % V
