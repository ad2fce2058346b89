# A temporary file from tempfile (in the system's temporary folder), moved onto the target: across
# file systems that move is a copy, not an atomic rename.
# expect: from another folder
def save_model_file(path, model, config, vocab):
    import shutil
    handle, tmp = tempfile.mkstemp(suffix=".pt")
    os.close(handle)
    torch.save({"format_version": FORMAT_VERSION, "config": dict(config), "vocab": list(vocab),
                "state_dict": model.state_dict()}, tmp)
    shutil.move(tmp, path)
