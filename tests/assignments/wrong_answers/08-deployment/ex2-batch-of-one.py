# An example of one review: the exporter declares the logits' batch fixed at 1, although the
# input's batch is dynamic (ONNX Runtime warns on every other batch size; shape tools refuse it).
# expect: fixed at 1
def export_classifier(model, path):
    example = torch.zeros(1, 5, dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (example,), str(path), dynamo=True, verbose=False,
                          input_names=["ids"], output_names=["logits"],
                          dynamic_shapes=({0: "batch", 1: "length"},))
