# Saves the weights and the configuration but not the vocabulary.
# expect: no 'vocab' entry
def save_model_file(path, model, config, vocab):
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save({"format_version": FORMAT_VERSION, "config": dict(config), "state_dict": model.state_dict()}, tmp)
    os.replace(tmp, path)
