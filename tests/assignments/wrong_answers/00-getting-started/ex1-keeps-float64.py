# Forgets the float32 conversion.
# expect: dtype of the batch
def make_batch(sequences, batch_first=True):
    tensors = [torch.as_tensor(np.asarray(s)) for s in sequences]
    if len({len(t) for t in tensors}) > 1:
        raise ValueError(f"lengths {[len(t) for t in tensors]}")
    batch = torch.stack(tensors)
    return batch if batch_first else batch.transpose(0, 1)
