# Marks only the batch as dynamic; the length stays the example's.
# expect: batch of .* reviews of
def export_classifier(model, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.zeros(1, 5, dtype=torch.long),), str(path), dynamo=False,
                          input_names=["ids"], output_names=["logits"],
                          dynamic_axes={"ids": {0: "batch"}, "logits": {0: "batch"}})
