# A 0-d tensor returned where a Python float is asked (the value is right).
# expect: should be a float, but it is a Tensor
def bits_per_char(logits, targets):
    log_probs = logits.log_softmax(dim=-1)
    picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return -picked.mean() / math.log(2)
