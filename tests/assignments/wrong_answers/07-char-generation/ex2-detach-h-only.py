# For an LSTM only h detached, c still attached to the previous batch's graph.
def train_stream(model, batches, state=None):
    losses = []
    for x, y in batches:
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        loss.backward()
        losses.append(loss.item())
        state = (state[0].detach(), state[1]) if isinstance(state, tuple) else state.detach()
    return losses, state
