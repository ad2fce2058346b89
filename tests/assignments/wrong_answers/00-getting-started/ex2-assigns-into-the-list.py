# Moves the items of a list in place and returns the same list.
# expect: changed the list it was given
def move_batch(batch, device, dtype):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, dtype) if torch.is_floating_point(batch) else batch.to(device)
    if isinstance(batch, dict):
        return {k: move_batch(v, device, dtype) for k, v in batch.items()}
    if isinstance(batch, list):
        for i, v in enumerate(batch):
            batch[i] = move_batch(v, device, dtype)
        return batch
    if isinstance(batch, tuple):
        return tuple(move_batch(v, device, dtype) for v in batch)
    return batch
