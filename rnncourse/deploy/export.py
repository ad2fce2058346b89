"""Exporting to ONNX: a classifier with a dynamic batch and length, and a recurrent language model
as one step of generation, run by ONNX Runtime with the state carried in NumPy.

The route for torch 2.13 is the ``torch.export``-based exporter, ``torch.onnx.export(...,
dynamo=True, dynamic_shapes=...)``: given dynamic shapes, it decomposes ``nn.LSTM`` and ``nn.GRU``
into a loop over time while it traces (``torch.export._patches``, private), so the length stays
symbolic, and it writes ONNX's own fused ``LSTM``/``GRU`` operators. The catch, measured on torch
2.13: only the first such export in a process keeps the length dynamic. The operator
(``torch.ops.aten.lstm.input``, ``aten.gru.input``) caches which kernel it dispatched to; the
exporter's later steps, or a plain ``torch.export.export``, fill that cache with the default
decomposition (a Python loop over the example's steps), and the exporter swaps its while-loop
decomposition in without clearing the cache, so the next export runs the stale loop and fixes the
length at the example's. :func:`export_onnx` clears the two operators' caches before and after
each export (``OpOverload._dispatch_cache``: private, it may change in any release), which makes
every export in a process work, in any order, its own and later ones. The TorchScript-based
exporter (``dynamo=False``, ``dynamic_axes``) still works and is deprecated: ``legacy=True``.

A recurrent step (:class:`LanguageModelStep`) is the graph that serves generation::

    logits, h, c = step(token, h, c)       token (B, 1), h and c (layers, B, H) -> logits (B, V)

Feeding it the argmax and the returned state, one id at a time, is :func:`generate_onnx`: the same
constant memory per stream as :func:`rnncourse.nn.language_model.generate`, without PyTorch.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
from torch import nn

from rnncourse.nn.language_model import CharLM

__all__ = ["export_onnx", "forget_rnn_dispatch", "declared_shapes", "LanguageModelStep", "export_step",
           "generate_onnx"]


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's warnings and the log lines that are not about the model (such as
    "torchvision is not installed"), for the duration of one export."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _first_line(error: Exception) -> str:
    """The first line of an exporter's message, without its terminal colour codes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", str(error)).splitlines()[0][:300]


def forget_rnn_dispatch() -> None:
    """Clear the dispatch caches of ``aten.lstm.input`` and ``aten.gru.input``, so that the next
    ``torch.onnx.export(dynamo=True, dynamic_shapes=...)`` in this process uses the exporter's
    while-loop decomposition and keeps the length dynamic (see the module's docstring). Private
    (``OpOverload._dispatch_cache``); does nothing where a torch release no longer has it."""
    for op in (torch.ops.aten.lstm.input, torch.ops.aten.gru.input):
        cache = getattr(op, "_dispatch_cache", None)
        if isinstance(cache, dict):
            cache.clear()


def _dynamo_export(module: nn.Module, args: tuple, path: Path, names: tuple[list, list],
                   dynamic_shapes: tuple) -> None:
    forget_rnn_dispatch()           # before: no earlier export decides this one's length
    try:
        with _quiet_exporter():
            program = torch.onnx.export(module, args, dynamo=True, input_names=names[0],
                                        output_names=names[1], dynamic_shapes=dynamic_shapes,
                                        verbose=False)
    except torch.onnx.OnnxExporterError as error:
        raise RuntimeError(
            f"torch.onnx.export(dynamo=True) could not export {type(module).__name__} with dynamic "
            "shapes; legacy=True uses the deprecated TorchScript-based exporter instead. The "
            f"exporter said: {_first_line(error)}") from error
    finally:
        forget_rnn_dispatch()       # after: nor does this one decide a later torch.export's
    import onnx

    # The exporter also declares the shapes of intermediate values, and some keep the example's
    # length (measured: the second LSTM layer's output of a 9-token example was declared
    # (batch, 9, 24)). ONNX Runtime runs on the real shapes, but tools that run ONNX shape
    # inference (onnxruntime.quantization) refuse the contradiction: keep only the inputs' and
    # outputs' shapes, and let shape inference derive the rest.
    model = program.model_proto
    del model.graph.value_info[:]
    onnx.save(model, str(path))


def declared_shapes(path: str | Path) -> dict[str, list]:
    """``{name: shape}`` for every value an ONNX file declares (after ONNX shape inference): a
    dimension is an ``int`` where the file fixes it, a ``str`` (such as ``"length"``) where it is
    dynamic."""
    import onnx

    graph = onnx.shape_inference.infer_shapes(onnx.load(str(path))).graph
    return {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in [*graph.input, *graph.value_info, *graph.output]}


def export_onnx(model: nn.Module, path: str | Path, example_ids: torch.Tensor, *,
                legacy: bool = False) -> Path:
    """Export a classifier ``model(ids (B, T)) -> logits (B,)`` to ONNX at ``path``, input ``"ids"``
    and output ``"logits"``, with the batch and the length dynamic, and check that the file says so.

    ``example_ids`` is ``(batch, length)``; a batch of 1 is repeated to 2, since from one row the
    exporter declares the output's batch fixed at 1 (measured on torch 2.13: the input's batch
    stays dynamic, and ONNX Runtime warns on every other batch size). An example of one token is
    fine: the length stays dynamic.

    ``legacy=False`` (the default): ``torch.onnx.export(dynamo=True, dynamic_shapes=...)``, the
    current route, after :func:`forget_rnn_dispatch` (so any number of exports in one process keep
    the length dynamic); a ``RuntimeError`` says what the exporter said if it fails.
    ``legacy=True``: the deprecated TorchScript-based exporter with ``dynamic_axes`` (its warning
    is silenced here; the book shows it)."""
    path = Path(path)
    model = model.eval()
    if example_ids.dim() != 2 or example_ids.shape[1] < 1:
        raise ValueError(f"example_ids must be (batch, length) token ids, got shape "
                         f"{tuple(example_ids.shape)}")
    if example_ids.shape[0] < 2:                  # a batch of 1 would fix the output's batch at 1
        example_ids = example_ids.expand(2, -1)
    if legacy:
        with _quiet_exporter():
            torch.onnx.export(model, (example_ids,), str(path), dynamo=False, input_names=["ids"],
                              output_names=["logits"],
                              dynamic_axes={"ids": {0: "batch", 1: "length"},
                                            "logits": {0: "batch"}})
    else:
        _dynamo_export(model, (example_ids,), path, (["ids"], ["logits"]),
                       ({0: "batch", 1: "length"},))
    shapes = declared_shapes(path)
    if not all(isinstance(d, str) for d in shapes["ids"]) or isinstance(shapes["logits"][0], int):
        raise RuntimeError(f"{path.name} declares ids {shapes['ids']} -> logits "
                           f"{shapes['logits']}: the batch and the length should be dynamic.")
    return path


class LanguageModelStep(nn.Module):
    """One step of a :class:`~rnncourse.nn.language_model.CharLM`, with the state as plain tensors:

    * LSTM: ``forward(token, h, c) -> (logits, h, c)``;
    * GRU: ``forward(token, h) -> (logits, h)``;

    ``token`` is ``LongTensor (B, 1)``, ``h`` and ``c`` are ``(num_layers, B, H)``, ``logits`` is
    ``(B, V)``: the scores for the id after ``token``. An exporter needs tensors in and tensors
    out; the model's own ``(h, c)`` tuple and ``state=None`` are what this wrapper removes."""

    def __init__(self, lm: CharLM) -> None:
        super().__init__()
        self.lm = lm.eval()

    def forward(self, token: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None = None):
        state = (h, c) if self.lm.cell == "lstm" else h
        logits, state = self.lm(token, state)
        if self.lm.cell == "lstm":
            return logits[:, -1], state[0], state[1]
        return logits[:, -1], state


def export_step(lm: CharLM, path: str | Path) -> Path:
    """Export one step of ``lm`` (:class:`LanguageModelStep`) to ONNX at ``path`` with
    ``dynamo=True`` and a dynamic batch: inputs ``token, h[, c]``, outputs ``logits, h_out[,
    c_out]``. The step has a length of one, so nothing about the length needs to be dynamic."""
    path = Path(path)
    step = LanguageModelStep(lm)
    state = lm.init_state(2)
    state = state if isinstance(state, tuple) else (state,)
    token = torch.zeros(2, 1, dtype=torch.long, device=state[0].device)
    names = ["h", "c"][:len(state)]
    _dynamo_export(step, (token, *state), path,
                   (["token", *names], ["logits", *(f"{n}_out" for n in names)]),
                   ({0: "batch"}, *({1: "batch"} for _ in state)))
    return path


def generate_onnx(session, prompt_ids: Sequence[int], n: int) -> Iterator[int]:
    """Yield ``n`` greedy ids (each the argmax of the last scores) after ``prompt_ids`` from an
    ONNX Runtime ``session`` of :func:`export_step`'s file, one stream, the state carried as NumPy
    arrays: the prompt is fed one id per step, then each new id with the returned state."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}.")
    prompt = [int(i) for i in prompt_ids]
    if not prompt:
        raise ValueError("generation needs a prompt of at least one id (e.g. a newline).")
    inputs = session.get_inputs()[1:]                       # h[, c]: (layers, "batch", H)
    state = [np.zeros((i.shape[0], 1, i.shape[2]), dtype=np.float32) for i in inputs]
    names = [i.name for i in inputs]

    def step(token):
        feed = {"token": np.array([[token]], dtype=np.int64), **dict(zip(names, state))}
        logits, *new_state = session.run(None, feed)
        return logits, new_state

    for token in prompt:
        logits, state = step(token)
    for i in range(n):
        token = int(logits[0].argmax())
        yield token
        if i + 1 < n:
            logits, state = step(token)
