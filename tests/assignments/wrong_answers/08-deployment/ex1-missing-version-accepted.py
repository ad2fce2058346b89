# A file without format_version is taken for the current version.
# expect: without format_version
def load_model_file(path):
    document = torch.load(path, weights_only=True)
    version = document.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ValueError(f"format version {version}; this code reads version {FORMAT_VERSION}")
    if not document.get("vocab"):
        raise ValueError("the file has no vocabulary")
    model = SentimentClassifier(**document["config"])
    model.load_state_dict(document["state_dict"])
    return model.eval(), document["vocab"]
