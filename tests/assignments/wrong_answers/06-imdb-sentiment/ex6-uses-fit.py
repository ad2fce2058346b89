# Calls the course's fit.
# expect: used rnncourse\.train
def train_epoch(model, batches, optimizer, max_norm):
    from rnncourse.train import fit
    history = fit(model, batches, optimizer=optimizer, epochs=1, loss_fn=nn.functional.binary_cross_entropy_with_logits,
                  clip_grad_norm=max_norm, device="cpu", progress=False)
    return float(history["train_loss"][-1])
