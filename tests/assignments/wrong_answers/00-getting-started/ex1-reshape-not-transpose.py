# Time first by reshaping instead of swapping the axes: right shape, scrambled values.
# expect: time_major\[:, 1\]
def make_batch(sequences, batch_first=True):
    tensors = [torch.as_tensor(np.asarray(s), dtype=torch.float32) for s in sequences]
    lengths = [len(t) for t in tensors]
    if len(set(lengths)) > 1:
        raise ValueError(f"lengths {lengths}")
    batch = torch.stack(tensors)
    return batch if batch_first else batch.reshape(batch.shape[1], batch.shape[0], -1)
