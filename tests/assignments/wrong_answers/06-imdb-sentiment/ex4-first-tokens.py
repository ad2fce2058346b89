# Keeps the first max_len tokens.
# expect: the task keeps the last
def predict_sentiment(model, text, vocab, max_len=256):
    ids = vocab.encode(tokenize(text), max_len=max_len)
    if not ids:
        raise ValueError("no tokens")
    model.eval()
    with torch.no_grad():
        return torch.sigmoid(model(torch.tensor([ids]), torch.tensor([len(ids)]))).item()
