# Loads with weights_only=False: a file from someone else can run code.
# expect: ran that object's code
def load_model_file(path):
    document = torch.load(path, weights_only=False)
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"format version {version}; this code reads version {FORMAT_VERSION}")
    if not document.get("vocab"):
        raise ValueError("the file has no vocabulary")
    model = SentimentClassifier(**document["config"])
    model.load_state_dict(document["state_dict"])
    return model.eval(), document["vocab"]
