# Trains in whatever mode the model was given (here evaluation: no dropout).
# expect: left in evaluation mode
def train_epoch(model, batches, optimizer, max_norm):
    total, count = 0.0, 0
    for x, lengths, y in batches:
        loss = nn.functional.binary_cross_entropy_with_logits(model(x, lengths), y)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / count
