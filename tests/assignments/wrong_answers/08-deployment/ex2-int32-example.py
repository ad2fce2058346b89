# Exported with an int32 example, so the ONNX input is int32 where a server sends int64 ids.
# expect: has type tensor\(int32\)
def export_classifier(model, path):
    example = torch.zeros(2, 5, dtype=torch.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (example,), str(path), dynamo=True, verbose=False,
                          input_names=["ids"], output_names=["logits"],
                          dynamic_shapes=({0: "batch", 1: "length"},))
