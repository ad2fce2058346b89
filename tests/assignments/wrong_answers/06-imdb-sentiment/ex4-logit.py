# Returns the logit.
# expect: the logit itself
def predict_sentiment(model, text, vocab, max_len=256):
    ids = vocab.encode(tokenize(text))[-max_len:]
    if not ids:
        raise ValueError("no tokens")
    model.eval()
    with torch.no_grad():
        return model(torch.tensor([ids]), torch.tensor([len(ids)])).item()
