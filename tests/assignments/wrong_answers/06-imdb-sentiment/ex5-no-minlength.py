# bincount without minlength: a class that never occurs shrinks the matrix.
# expect: even when a class never occurs|should have shape
def confusion_matrix(predictions, labels):
    flat = 2 * labels.reshape(-1).long() + predictions.reshape(-1).long()
    counts = torch.bincount(flat)
    return counts.reshape(2, -1) if counts.numel() % 2 == 0 else counts
