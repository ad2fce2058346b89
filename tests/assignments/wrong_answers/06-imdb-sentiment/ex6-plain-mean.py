# Averages the batch losses without weighting by batch size.
# expect: the plain mean of the batch losses
def train_epoch(model, batches, optimizer, max_norm):
    model.train()
    losses = []
    for x, lengths, y in batches:
        loss = nn.functional.binary_cross_entropy_with_logits(model(x, lengths), y)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)
