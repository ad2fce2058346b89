# One backward over the sum of all batches' losses: full BPTT through the whole pass, not truncated
# (same losses, different gradients, and the whole pass's graph kept in memory).
# expect: gradient
def train_stream(model, batches, state=None):
    losses = []
    for x, y in batches:
        logits, state = model(x, state)
        losses.append(F.cross_entropy(logits.flatten(0, 1), y.flatten()))
    sum(losses).backward()
    state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
    return [l.item() for l in losses], state
