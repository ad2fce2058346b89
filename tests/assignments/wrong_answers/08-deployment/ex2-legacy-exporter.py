# The deprecated TorchScript-based exporter, which the chapter keeps only as a fallback.
# expect: TorchScript-based exporter
def export_classifier(model, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.zeros(2, 5, dtype=torch.long),), str(path),
                          dynamo=False, input_names=["ids"], output_names=["logits"],
                          dynamic_axes={"ids": {0: "batch", 1: "length"}, "logits": {0: "batch"}})
