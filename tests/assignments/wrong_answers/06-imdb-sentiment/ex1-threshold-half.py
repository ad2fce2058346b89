# Thresholds the logits at 0.5.
# expect: threshold 0.5 applied to the logits
def binary_accuracy(logits, labels):
    return ((logits.reshape(-1) > 0.5).float() == labels.reshape(-1).float()).float().mean().item()
