# Exports without dynamic_shapes: the example's batch and length are frozen.
# expect: dynamic_shapes
def export_classifier(model, path):
    example = torch.zeros(2, 5, dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (example,), str(path), dynamo=True, verbose=False,
                          input_names=["ids"], output_names=["logits"])
