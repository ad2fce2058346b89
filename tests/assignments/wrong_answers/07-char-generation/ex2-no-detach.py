# The state carried but not detached: the second backward runs into the first batch's freed graph.
# expect: raised
def train_stream(model, batches, state=None):
    losses = []
    for x, y in batches:
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        loss.backward()
        losses.append(loss.item())
    return losses, state
