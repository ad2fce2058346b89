# Compares (batch, 1) with (batch,) without flattening.
# expect: broadcasts to \(batch, batch\)
def binary_accuracy(logits, labels):
    return ((logits > 0).float() == labels.float()).float().mean().item()
