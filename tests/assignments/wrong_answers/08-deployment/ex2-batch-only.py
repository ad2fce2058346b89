# Marks only the batch as dynamic; the length stays the example's.
# expect: batch of .* reviews of
def export_classifier(model, path):
    example = torch.zeros(2, 5, dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (example,), str(path), dynamo=True, verbose=False,
                          input_names=["ids"], output_names=["logits"],
                          dynamic_shapes=({0: "batch"},))
