# Checks that the key "vocab" is there, so an empty vocabulary is accepted.
# expect: empty vocabulary
def load_model_file(path):
    document = torch.load(path, weights_only=True)
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"format version {version}; this code reads version {FORMAT_VERSION}")
    if "vocab" not in document:
        raise ValueError("the file has no vocabulary")
    model = SentimentClassifier(**document["config"])
    model.load_state_dict(document["state_dict"])
    return model.eval(), document["vocab"]
