# The losses kept as (detached) tensors where Python floats are asked.
# expect: loss of batch 0 .* should be a float
def train_stream(model, batches, state=None):
    losses = []
    for x, y in batches:
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        loss.backward()
        losses.append(loss.detach())
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
    return losses, state
