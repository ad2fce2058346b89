# Never looks at the format version.
# expect: format version 2
def load_model_file(path):
    document = torch.load(path, weights_only=True)
    if not document.get("vocab"):
        raise ValueError("the file has no vocabulary")
    model = SentimentClassifier(**document["config"])
    model.load_state_dict(document["state_dict"])
    return model.eval(), document["vocab"]
