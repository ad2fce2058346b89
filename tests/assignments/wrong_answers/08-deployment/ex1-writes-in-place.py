# Saved straight onto the target: no file is left over, but a crash mid-write leaves half a model.
# expect: without moving a finished file onto it
def save_model_file(path, model, config, vocab):
    torch.save({"format_version": FORMAT_VERSION, "config": dict(config), "vocab": list(vocab),
                "state_dict": model.state_dict()}, path)
