# Stacks without comparing the lengths: torch.stack raises a RuntimeError, not the ValueError asked for.
# expect: should raise ValueError, but it raised RuntimeError
def make_batch(sequences, batch_first=True):
    batch = torch.stack([torch.as_tensor(np.asarray(s), dtype=torch.float32) for s in sequences])
    return batch if batch_first else batch.transpose(0, 1)
