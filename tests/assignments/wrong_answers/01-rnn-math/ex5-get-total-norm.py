# torch.nn.utils.get_total_norm plus mul_: the helper does half the exercise.
# expect: used torch\.nn\.utils\.get_total_norm
def clip_by_global_norm(grads, max_norm):
    present = [g for g in grads if g is not None]
    if not present:
        return 0.0
    total = float(torch.nn.utils.get_total_norm(present, error_if_nonfinite=True))
    for g in present:
        g.mul_(min(1.0, max_norm / (total + 1e-6)))
    return total
