# Names the input and output "input" and "output", so a client sending "ids" is refused.
# expect: input names, output names
def export_classifier(model, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.zeros(2, 5, dtype=torch.long),), str(path), dynamo=False,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch", 1: "length"}, "output": {0: "batch"}})
