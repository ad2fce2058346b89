"""What runs a sentiment model in ``rnncourse serve``: eager PyTorch, or the ONNX model chapter 8
exports, run by ONNX Runtime in fp32 or int8 (``--backend eager|onnx|onnx-int8``).

Each backend scores token ids ``(B, T)`` of *equal* length, ``same_length(ids) -> logits (B,)``:
the fast route, one fused ``nn.LSTM`` call in eager PyTorch. Only eager PyTorch also has the exact
route for rows of different lengths, ``padded(ids, lengths)`` (chapter 6's padded call); the ONNX
graph reads every position, padding included, so it is only given rows of one length.

An ONNX backend is exported and (for int8) quantised at start-up, then checked against eager on a
few inputs: the largest difference of P(positive) must stay within ``PARITY_TOLERANCE`` (1e-4 for
fp32, rounding only; 0.05 for int8, whose weights are rounded to 8 bits), or the server does not
start. ``describe()`` is what ``/health`` shows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

__all__ = ["EagerBackend", "OnnxBackend", "make_backend", "BACKENDS", "PARITY_TOLERANCE"]

BACKENDS = ("eager", "onnx", "onnx-int8")
PARITY_TOLERANCE = {"onnx": 1e-4, "onnx-int8": 0.05}
PARITY_SHAPES = [(1, 1), (1, 7), (3, 20), (2, 64)]          # (batch, length) of the start-up check


class BackendError(RuntimeError):
    """A backend that cannot serve this model (export failed, or it disagrees with eager)."""


class EagerBackend:
    """The PyTorch model itself, every call under ``torch.inference_mode()``."""

    name = "eager"

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model.eval()
        self.parity: float | None = None

    def same_length(self, ids: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self.model(ids)

    def padded(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return self.model(ids, lengths)

    def describe(self) -> dict:
        return {"backend": self.name}


class OnnxBackend:
    """An ONNX Runtime session over the exported model (fp32, or int8 weights)."""

    padded = None                                  # the graph has no lengths input

    def __init__(self, session, name: str, path: Path, parity: float | None = None) -> None:
        self.session, self.name, self.path, self.parity = session, name, path, parity

    def same_length(self, ids: torch.Tensor) -> torch.Tensor:
        (logits,) = self.session.run(None, {"ids": ids.numpy()})
        return torch.from_numpy(np.asarray(logits))

    def describe(self) -> dict:
        return {"backend": self.name, "file_bytes": self.path.stat().st_size,
                "parity_max_abs_difference": self.parity, "parity_tolerance": PARITY_TOLERANCE[self.name]}


def _parity(eager: EagerBackend, other: OnnxBackend, vocab_size: int) -> float:
    """The largest |P_eager - P_other| over the start-up inputs (fixed seed)."""
    generator = torch.Generator().manual_seed(0)
    worst = 0.0
    for batch, length in PARITY_SHAPES:
        ids = torch.randint(0, vocab_size, (batch, length), generator=generator)
        expected = torch.sigmoid(eager.same_length(ids))
        got = torch.sigmoid(other.same_length(ids).reshape(expected.shape))
        worst = max(worst, float((expected - got).abs().max()))
    return worst


def make_backend(name: str, model: torch.nn.Module, *, vocab_size: int, threads: int = 1,
                 folder: str | Path | None = None):
    """The backend ``name`` for ``model``; an ONNX one is exported to ``folder`` (a temporary
    folder if None) and checked against eager. BackendError says why it cannot serve."""
    eager = EagerBackend(model)
    if name == "eager":
        return eager
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}.")
    from rnncourse.deploy.latency import export_onnx, onnx_session

    folder = Path(folder or tempfile.mkdtemp(prefix="rnncourse-serve-"))
    try:
        path = export_onnx(model, folder / "model-fp32.onnx", torch.randint(0, vocab_size, (2, 17)))
        if name == "onnx-int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(path), str(folder / "model-int8.onnx"), weight_type=QuantType.QInt8)
            path = folder / "model-int8.onnx"
        backend = OnnxBackend(onnx_session(path, threads), name, path)
    except Exception as error:
        raise BackendError(f"the model could not be exported for {name}: {type(error).__name__}: "
                           f"{' '.join(str(error).split())[:200]}") from None
    backend.parity = round(_parity(eager, backend, vocab_size), 7)
    if backend.parity > PARITY_TOLERANCE[name]:
        raise BackendError(f"the {name} model disagrees with eager PyTorch at start-up: P(positive) differs "
                           f"by up to {backend.parity:.3g} (tolerance {PARITY_TOLERANCE[name]:g}).")
    return backend
