# Forgets model.eval(): dropout acts on the prediction.
# expect: training mode
def predict_sentiment(model, text, vocab, max_len=256):
    ids = vocab.encode(tokenize(text))[-max_len:]
    if not ids:
        raise ValueError("no tokens")
    with torch.no_grad():
        return torch.sigmoid(model(torch.tensor([ids]), torch.tensor([len(ids)]))).item()
