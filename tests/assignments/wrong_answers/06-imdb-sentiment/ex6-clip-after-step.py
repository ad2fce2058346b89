# Clips after the optimizer step, when it no longer matters.
# expect: the epoch's loss|the weights
def train_epoch(model, batches, optimizer, max_norm):
    model.train()
    total, count = 0.0, 0
    for x, lengths, y in batches:
        loss = nn.functional.binary_cross_entropy_with_logits(model(x, lengths), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        total += loss.item() * len(y)
        count += len(y)
    return total / count
