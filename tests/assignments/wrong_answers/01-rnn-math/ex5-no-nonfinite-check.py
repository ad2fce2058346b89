# Scales even when the norm is inf or NaN.
# expect: should raise RuntimeError
def clip_by_global_norm(grads, max_norm):
    present = [g for g in grads if g is not None]
    if not present:
        return 0.0
    total = torch.sqrt(sum((g.double() ** 2).sum() for g in present)).item()
    for g in present:
        g.mul_(min(1.0, max_norm / (total + 1e-6)))
    return total
