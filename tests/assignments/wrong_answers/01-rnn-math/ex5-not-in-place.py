# Scales copies and leaves the given gradients as they were.
# expect: in place
def clip_by_global_norm(grads, max_norm):
    present = [g for g in grads if g is not None]
    if not present:
        return 0.0
    total = torch.sqrt(sum((g.double() ** 2).sum() for g in present)).item()
    if not np.isfinite(total):
        raise RuntimeError("non-finite")
    grads = [g * min(1.0, max_norm / (total + 1e-6)) for g in present]
    return total
