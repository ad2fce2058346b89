"""Chapter 8's export routes: ONNX (classic and dynamo exporters) and ONNX Runtime agree with eager
PyTorch on inputs of several lengths and batch sizes; int8 keeps the predictions."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from rnncourse.nn.models import SentimentClassifier

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

SHAPES = [(1, 1), (1, 50), (3, 7), (8, 123)]


def small_model(cell="lstm", seed=0):
    torch.manual_seed(seed)
    return SentimentClassifier(300, 16, 12, cell=cell, num_layers=2, pack=False).eval()


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def assert_parity(model, path, atol=1e-5):
    runner = session(path)
    generator = torch.Generator().manual_seed(1)
    for batch, length in SHAPES:
        ids = torch.randint(2, 300, (batch, length), generator=generator)
        with torch.no_grad():
            expected = model(ids).numpy()
        (got,) = runner.run(None, {"ids": ids.numpy()})
        assert got.shape == (batch,), f"batch {batch}, length {length}: shape {got.shape}"
        np.testing.assert_allclose(got, expected, atol=atol, err_msg=f"batch {batch}, length {length}")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_classic_exporter_with_dynamic_axes_matches_eager(tmp_path, cell):
    model = small_model(cell)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randint(2, 300, (2, 9)),), str(tmp_path / "m.onnx"), dynamo=False,
                          input_names=["ids"], output_names=["logits"],
                          dynamic_axes={"ids": {0: "batch", 1: "length"}, "logits": {0: "batch"}})
    graph = onnx.load(str(tmp_path / "m.onnx")).graph
    assert cell.upper() in {n.op_type for n in graph.node}          # ONNX's own recurrent operator
    assert_parity(model, tmp_path / "m.onnx")


def test_dynamo_exporter_needs_the_while_loop_decomposition_for_a_dynamic_length(tmp_path):
    from torch.export._patches import register_lstm_while_loop_decomposition   # private, may change

    model = small_model("lstm")
    example = (torch.randint(2, 300, (2, 9)),)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with register_lstm_while_loop_decomposition():
            program = torch.onnx.export(model, example, dynamo=True, input_names=["ids"], output_names=["logits"],
                                        dynamic_shapes=({0: "batch", 1: "length"},), verbose=False)
    program.save(str(tmp_path / "m.onnx"))
    assert "LSTM" in {n.op_type for n in onnx.load(str(tmp_path / "m.onnx")).graph.node}
    assert_parity(model, tmp_path / "m.onnx")


def test_onnx_runtime_int8_uses_dynamic_quantize_lstm_and_stays_close(tmp_path):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = small_model("lstm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randint(2, 300, (2, 9)),), str(tmp_path / "m.onnx"), dynamo=False,
                          input_names=["ids"], output_names=["logits"],
                          dynamic_axes={"ids": {0: "batch", 1: "length"}, "logits": {0: "batch"}})
    quantize_dynamic(str(tmp_path / "m.onnx"), str(tmp_path / "q.onnx"), weight_type=QuantType.QInt8)
    assert "DynamicQuantizeLSTM" in {n.op_type for n in onnx.load(str(tmp_path / "q.onnx")).graph.node}
    assert (tmp_path / "q.onnx").stat().st_size < (tmp_path / "m.onnx").stat().st_size
    assert_parity(model, tmp_path / "q.onnx", atol=0.05)


def test_without_the_decomposition_a_dynamic_length_is_refused():
    # In a fresh process: in one process, the first LSTM export decides what later ones do (the
    # private patch's registration and torch.export's caches outlive the `with` block).
    code = """
import torch
from rnncourse.nn.models import SentimentClassifier
model = SentimentClassifier(300, 16, 12, pack=False).eval()
dims = ({0: torch.export.Dim("batch"), 1: torch.export.Dim("length")},)
try:
    torch.export.export(model, (torch.randint(2, 300, (2, 9)),), dynamic_shapes=dims)
except Exception as error:
    print(type(error).__name__, str(error).splitlines()[0])
else:
    print("exported")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "Constraints violated (length)" in result.stdout, result.stdout + result.stderr[-2000:]
