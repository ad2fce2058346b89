"""Chapter 8's export routes (rnncourse.deploy.export): the dynamo exporter with dynamic shapes, run
in a fresh process, gives ONNX Runtime files that agree with eager PyTorch at lengths and batch
sizes other than the example's, also after a plain torch.export froze the public call; the legacy
exporter still works; int8 keeps the predictions and quantises the embedding; one recurrent step
exported generates the same characters as eager PyTorch."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from rnncourse.deploy.export import LanguageModelStep, declared_shapes, export_onnx, generate_onnx
from rnncourse.deploy.latency import onnx_session
from rnncourse.nn.language_model import CharLM, generate
from rnncourse.nn.models import SentimentClassifier

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

EXAMPLE = (2, 9)                                     # the export's example: batch 2, 9 tokens
SHAPES = [(batch, length) for batch in (1, 5) for length in (1, 17, 64)]


def small_classifier(cell="lstm", seed=0, vocab=300):
    torch.manual_seed(seed)
    return SentimentClassifier(vocab, 16, 12, cell=cell, num_layers=2, pack=False).eval()


def small_lm(cell="lstm", seed=0):
    torch.manual_seed(seed)
    return CharLM(23, 8, 16, num_layers=2, cell=cell).eval()


def run_fresh(code: str) -> str:
    """Run ``code`` in a new Python process (no torch.export has run there) and return stdout."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Classifiers (LSTM, GRU) and language-model steps (LSTM, GRU) exported with dynamo=True in
    one fresh process, from weights this process saved."""
    folder = tmp_path_factory.mktemp("export")
    for cell in ("lstm", "gru"):
        torch.save(small_classifier(cell).state_dict(), folder / f"classifier-{cell}.pt")
        torch.save(small_lm(cell).state_dict(), folder / f"lm-{cell}.pt")
    run_fresh(f"""
        from pathlib import Path
        import torch
        from rnncourse.deploy.export import export_onnx, export_step
        from rnncourse.nn.language_model import CharLM
        from rnncourse.nn.models import SentimentClassifier
        folder = Path({str(folder)!r})
        for cell in ("lstm", "gru"):
            model = SentimentClassifier(300, 16, 12, cell=cell, num_layers=2, pack=False)
            model.load_state_dict(torch.load(folder / f"classifier-{{cell}}.pt"))
            for attempt in range(2):                   # a second export in one process
                export_onnx(model, folder / f"classifier-{{cell}}.onnx",
                            torch.randint(2, 300, {EXAMPLE}))
            lm = CharLM(23, 8, 16, num_layers=2, cell=cell)
            lm.load_state_dict(torch.load(folder / f"lm-{{cell}}.pt"))
            export_step(lm, folder / f"step-{{cell}}.onnx")
        """)
    return folder


def assert_parity(model, path, atol=1e-5):
    runner = onnx_session(path, threads=1)
    generator = torch.Generator().manual_seed(1)
    for batch, length in SHAPES:
        ids = torch.randint(2, 300, (batch, length), generator=generator)
        with torch.no_grad():
            expected = model(ids).numpy()
        (got,) = runner.run(None, {"ids": ids.numpy()})
        assert got.shape == (batch,), f"batch {batch}, length {length}: shape {got.shape}"
        np.testing.assert_allclose(got, expected, atol=atol,
                                   err_msg=f"batch {batch}, length {length}")


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_dynamo_export_in_a_fresh_process_matches_eager_at_other_shapes(exported, cell):
    path = exported / f"classifier-{cell}.onnx"
    graph = onnx.load(str(path)).graph
    assert cell.upper() in {n.op_type for n in graph.node}          # ONNX's own recurrent operator
    shapes = declared_shapes(path)
    assert shapes["ids"] == ["batch", "length"] and shapes["logits"] == ["batch"], shapes
    frozen = {name: shape for name, shape in shapes.items() if EXAMPLE[1] in shape}
    assert not frozen, f"shapes declared with the example's length {EXAMPLE[1]}: {frozen}"
    assert_parity(small_classifier(cell), path)


@pytest.mark.slow
def test_after_a_plain_torch_export_export_onnx_still_keeps_the_length_dynamic(tmp_path):
    # The page's claim, in a fresh process: after a plain torch.export of an LSTM, the public
    # call freezes the length (the operator's stale dispatch cache); export_onnx clears that
    # cache and exports an LSTM and a GRU in a row that run at every length.
    for cell in ("lstm", "gru"):
        torch.save(small_classifier(cell).state_dict(), tmp_path / f"{cell}.pt")
    out = run_fresh(f"""
        import logging, warnings
        import torch
        from rnncourse.deploy.export import export_onnx
        from rnncourse.nn.models import SentimentClassifier
        warnings.simplefilter("ignore"); logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        models = {{}}
        for cell in ("lstm", "gru"):
            models[cell] = SentimentClassifier(300, 16, 12, cell=cell, num_layers=2, pack=False)
            models[cell].load_state_dict(torch.load({str(tmp_path)!r} + f"/{{cell}}.pt"))
            models[cell].eval()
        example = torch.randint(2, 300, {EXAMPLE})
        torch.export.export(models["lstm"], (example,))      # static, no decomposition
        try:
            torch.onnx.export(models["lstm"], (example,), dynamo=True, verbose=False,
                              dynamic_shapes=({{0: "batch", 1: "length"}},))
            print("public call: exported")
        except Exception as error:
            print("public call:", type(error).__name__)
        for cell in ("lstm", "gru"):
            export_onnx(models[cell], {str(tmp_path)!r} + f"/{{cell}}.onnx", example)
        print("export_onnx: exported")
        from torch.export._patches import register_lstm_while_loop_decomposition
        with register_lstm_while_loop_decomposition():         # nor does it break a later one
            torch.export.export(models["lstm"], (example,), dynamic_shapes=(
                {{0: torch.export.Dim("batch"), 1: torch.export.Dim("length")}},))
        print("torch.export afterwards: exported")
        """)
    assert "public call: TorchExportError" in out and "export_onnx: exported" in out, out
    assert "torch.export afterwards: exported" in out, out
    for cell in ("lstm", "gru"):
        assert declared_shapes(tmp_path / f"{cell}.onnx")["ids"] == ["batch", "length"]
        assert_parity(small_classifier(cell), tmp_path / f"{cell}.onnx")


def test_the_legacy_exporter_still_exports_a_dynamic_length(tmp_path):
    model = small_classifier("lstm")
    path = export_onnx(model, tmp_path / "m.onnx", torch.randint(2, 300, EXAMPLE), legacy=True)
    assert "LSTM" in {n.op_type for n in onnx.load(str(path)).graph.node}
    assert_parity(model, path)


@pytest.mark.slow
def test_onnx_runtime_int8_quantises_the_lstm_and_the_embedding(exported, tmp_path):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32, int8 = exported / "classifier-lstm.onnx", tmp_path / "q.onnx"
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    operators = {n.op_type for n in onnx.load(str(int8)).graph.node}
    assert {"DynamicQuantizeLSTM", "DequantizeLinear"} <= operators, operators
    gathers = [n for n in onnx.load(str(int8)).graph.node if n.op_type == "Gather"]
    initializers = {t.name: t for t in onnx.load(str(int8)).graph.initializer}
    table = [initializers[n.input[0]] for n in gathers if n.input[0] in initializers]
    eight_bit = (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)
    assert table and all(t.data_type in eight_bit for t in table), \
        "the embedding table (Gather's data) should be stored in 8 bits"
    assert_parity(small_classifier("lstm"), int8, atol=0.05)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_step_wrapper_is_the_model_one_token_at_a_time(cell):
    lm, generator = small_lm(cell), torch.Generator().manual_seed(3)
    ids = torch.randint(0, 23, (4, 6), generator=generator)
    step = LanguageModelStep(lm)
    state = lm.init_state(4)
    state = state if isinstance(state, tuple) else (state,)
    with torch.no_grad():
        expected, _ = lm(ids)
        for t in range(ids.shape[1]):
            logits, *state = step(ids[:, t:t + 1], *state)
            torch.testing.assert_close(logits, expected[:, t], atol=1e-6, rtol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_exported_step_generates_what_eager_pytorch_generates(exported, cell):
    path = exported / f"step-{cell}.onnx"
    names = [i.name for i in onnx_session(path, threads=1).get_inputs()]
    assert names == (["token", "h", "c"] if cell == "lstm" else ["token", "h"]), names
    lm, prompt = small_lm(cell), [1, 5, 7]
    eager = list(generate(lm, prompt, 200, temperature=0))
    assert list(generate_onnx(onnx_session(path, threads=1), prompt, 200)) == eager
    runner, batch = onnx_session(path, threads=1), 3      # the batch is dynamic: three streams at once
    state = lm.init_state(batch)
    state = state if isinstance(state, tuple) else (state,)
    token = torch.tensor([[1], [4], [9]])
    got = runner.run(None, {"token": token.numpy(),
                            **{n: s.numpy() for n, s in zip(names[1:], state)}})
    with torch.no_grad():
        expected = LanguageModelStep(lm)(token, *state)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e.numpy(), atol=1e-5)


@pytest.mark.slow
def test_generate_onnx_refuses_what_it_cannot_do(exported):
    runner = onnx_session(exported / "step-lstm.onnx", threads=1)
    with pytest.raises(ValueError, match="n must be >= 0"):
        list(generate_onnx(runner, [1], -1))
    with pytest.raises(ValueError, match="prompt"):
        list(generate_onnx(runner, [], 3))


def test_without_the_decomposition_torch_export_refuses_a_dynamic_length():
    # The plain torch.export route the page shows first; a fresh process, so that nothing the
    # exporter patched earlier decides the outcome.
    out = run_fresh("""
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
        """)
    assert "Constraints violated (length)" in out, out


def test_examples_of_one_row_or_one_token_export_a_dynamic_batch_and_length(tmp_path):
    with pytest.raises(ValueError, match=r"\(batch, length\)"):
        export_onnx(small_classifier(), tmp_path / "m.onnx", torch.randint(2, 300, (9,)))
    model = small_classifier()
    for example in [(1, 9), (2, 1)]:            # one row (repeated to two), one token
        path = export_onnx(model, tmp_path / "m.onnx", torch.randint(2, 300, example))
        shapes = declared_shapes(path)
        assert shapes["ids"] == ["batch", "length"] and shapes["logits"] == ["batch"], example
        assert_parity(model, path)


def test_onnx_session_runs_at_the_graph_optimisation_level_asked_for(tmp_path):
    model = small_classifier()
    path = export_onnx(model, tmp_path / "m.onnx", torch.randint(2, 300, EXAMPLE), legacy=True)
    levels = {level: onnx_session(path, 1, optimization=level).get_session_options().graph_optimization_level
              for level in ("disable", "basic", "extended", "all")}
    assert levels == {"disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
                      "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                      "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                      "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}
    with pytest.raises(ValueError, match="optimization must be one of disable, basic, extended, all"):
        onnx_session(path, 1, optimization="max")
