# Every batch starts from zeros: the state is never handed on.
# expect: loss of batch
def train_stream(model, batches, state=None):
    losses = []
    for x, y in batches:
        logits, new_state = model(x)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        loss.backward()
        losses.append(loss.item())
        state = new_state
    state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
    return losses, state
