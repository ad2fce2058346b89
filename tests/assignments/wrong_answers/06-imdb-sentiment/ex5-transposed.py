# Rows and columns the other way round.
# expect: rows are the true classes
def confusion_matrix(predictions, labels):
    flat = 2 * predictions.reshape(-1).long() + labels.reshape(-1).long()
    return torch.bincount(flat, minlength=4).reshape(2, 2)
