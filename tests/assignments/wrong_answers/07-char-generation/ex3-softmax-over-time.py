# The softmax over the wrong dimension (time instead of the vocabulary).
def bits_per_char(logits, targets):
    log_probs = logits.log_softmax(dim=1)
    picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return float(-picked.mean() / math.log(2))
