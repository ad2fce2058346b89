# Converts every tensor to dtype, integer labels included.
# expect: dtype of the integer labels
def move_batch(batch, device, dtype):
    if isinstance(batch, torch.Tensor):
        return batch.to(device, dtype)
    if isinstance(batch, dict):
        return {k: move_batch(v, device, dtype) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return type(batch)(move_batch(v, device, dtype) for v in batch)
    return batch
