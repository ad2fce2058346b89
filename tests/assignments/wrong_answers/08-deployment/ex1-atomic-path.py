# The course's own atomic writer instead of the temporary file and os.replace the exercise asks for.
# expect: used rnncourse\.runtime\.files\.atomic_path
def save_model_file(path, model, config, vocab):
    from rnncourse.runtime.files import atomic_path
    with atomic_path(path) as tmp:
        torch.save({"format_version": FORMAT_VERSION, "config": dict(config), "vocab": list(vocab),
                    "state_dict": model.state_dict()}, tmp)
