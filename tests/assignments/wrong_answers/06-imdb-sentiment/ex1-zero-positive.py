# Counts a logit of exactly 0 as positive.
# expect: exactly 0 counted as positive
def binary_accuracy(logits, labels):
    return ((logits.reshape(-1) >= 0).float() == labels.reshape(-1).float()).float().mean().item()
