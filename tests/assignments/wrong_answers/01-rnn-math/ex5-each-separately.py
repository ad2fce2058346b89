# Clips each gradient by its own norm.
# expect: each gradient clipped by its own norm
def clip_by_global_norm(grads, max_norm):
    present = [g for g in grads if g is not None]
    total = float(torch.sqrt(sum((g.double() ** 2).sum() for g in present))) if present else 0.0
    if not np.isfinite(total):
        raise RuntimeError("non-finite")
    for g in present:
        g.mul_(min(1.0, max_norm / (float(g.norm()) + 1e-6)))
    return total
