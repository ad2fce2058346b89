# Written to a part file beside the target, then copied over it: not a rename, and the part file stays.
# expect: without moving a finished file|left behind
def save_model_file(path, model, config, vocab):
    import shutil
    part = Path(path).with_suffix(".part")
    torch.save({"format_version": FORMAT_VERSION, "config": dict(config), "vocab": list(vocab),
                "state_dict": model.state_dict()}, part)
    shutil.copyfile(part, path)
