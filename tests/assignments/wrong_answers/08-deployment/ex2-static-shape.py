# Exports without dynamic_axes: the example's batch and length are frozen.
# expect: dynamic_axes
def export_classifier(model, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.zeros(2, 5, dtype=torch.long),), str(path), dynamo=False,
                          input_names=["ids"], output_names=["logits"])
