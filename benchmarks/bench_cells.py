"""A hand-written LSTM layer against PyTorch's ``nn.LSTM`` (cuDNN on a GPU), forward + backward.

The design card's reference number: on a GPU, a fused hand-written LSTM should run within 1.5x of
cuDNN (PyTorch's TorchScript LSTM benchmarks reach 1.2-1.3x). Three versions of one LSTM layer,
all with the same weights, are timed on the same input:

``nn.LSTM``            PyTorch's layer: cuDNN on CUDA, ATen's C++ loop on the CPU
``hand-written``       chapter 3's cell as a Python loop: per step, x_t and h_{t-1} projections for all
                       four gates and the element-wise gate math, in eager mode
``hand-written fused`` the same recurrence organised for speed: the input projection of every step in
                       one matrix product before the loop, one h_{t-1} product per step, and the
                       element-wise gate math compiled by ``torch.compile`` into fused kernels
                       (forward and backward)

Before timing, the script checks that all three compute the same outputs and gradients.

    python benchmarks/bench_cells.py                  # on get_device(): CUDA if present, else CPU
    python benchmarks/bench_cells.py --device cpu --seq-len 50

The result goes to ``benchmarks/results/bench_cells-<device type>-<host>.json`` (through
``benchmarks/machine.py``, like every benchmark: date, host, hardware, CPU model, threads) with
the sizes, the median and best times, the ratios of the medians to ``nn.LSTM``, the machine's
load average before and after, and a ``summary`` list. A CPU result says so in its
``measured_on`` field and leaves the target's ``met`` empty: it is not the GPU reference number.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn as nn
from torch.utils import benchmark

from rnncourse.runtime.device import get_device, seed_everything

from machine import load_average, machine_facts, summary_row, use_threads, write_results

RESULTS = Path(__file__).resolve().parent / "results"


def lstm_pointwise(gates: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The element-wise part of an LSTM step. gates: (batch, 4H) pre-activations in the order
    i, f, g, o; c: (batch, H) -> (h, c), each (batch, H)."""
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


class HandWrittenLSTM(nn.Module):
    """One LSTM layer that borrows ``nn.LSTM``'s parameters. x: (seq_len, batch, input) -> output
    (seq_len, batch, hidden). ``fused=False``: both projections inside the loop, eager gate math.
    ``fused=True``: input projection hoisted out of the loop, gate math through ``pointwise``."""

    def __init__(self, lstm: nn.LSTM, *, fused: bool, pointwise=lstm_pointwise):
        super().__init__()
        self.lstm, self.fused, self.pointwise = lstm, fused, pointwise

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.lstm
        h = c = x.new_zeros(x.shape[1], p.hidden_size)
        outputs = []
        if self.fused:
            projected = torch.addmm(p.bias_ih_l0 + p.bias_hh_l0, x.flatten(0, 1), p.weight_ih_l0.T)
            for gates_x in projected.view(x.shape[0], x.shape[1], -1):  # (batch, 4H) per step
                h, c = self.pointwise(torch.addmm(gates_x, h, p.weight_hh_l0.T), c)
                outputs.append(h)
        else:
            for x_t in x:
                gates = x_t @ p.weight_ih_l0.T + p.bias_ih_l0 + h @ p.weight_hh_l0.T + p.bias_hh_l0
                h, c = lstm_pointwise(gates, c)
                outputs.append(h)
        return torch.stack(outputs)


def _forward_backward(model: nn.Module, x: torch.Tensor) -> None:
    out = model(x)
    (out[0] if isinstance(out, tuple) else out).sum().backward()


def _gradients(model: nn.Module, x: torch.Tensor, lstm: nn.LSTM) -> tuple[torch.Tensor, list[torch.Tensor]]:
    lstm.zero_grad(set_to_none=True)
    out = model(x)
    out = out[0] if isinstance(out, tuple) else out
    out.sum().backward()
    return out.detach(), [p.grad.detach().clone() for p in lstm.parameters()]


def run(device: torch.device, seq_len: int, batch: int, input_size: int, hidden_size: int,
        min_run_time: float, compile_mode: str | None) -> dict:
    seed_everything(0)
    lstm = nn.LSTM(input_size, hidden_size).to(device)
    x = torch.randn(seq_len, batch, input_size, device=device)
    start = time.perf_counter()
    compiled = torch.compile(lstm_pointwise, mode=compile_mode, dynamic=False)
    versions = {
        "nn.LSTM": lstm,
        "hand-written": HandWrittenLSTM(lstm, fused=False),
        "hand-written fused": HandWrittenLSTM(lstm, fused=True, pointwise=compiled),
    }
    _forward_backward(versions["hand-written fused"], x)  # compiles forward and backward once
    compile_seconds = time.perf_counter() - start

    reference_out, reference_grads = _gradients(lstm, x, lstm)
    agreement = {}
    for name in ("hand-written", "hand-written fused"):
        out, grads = _gradients(versions[name], x, lstm)
        agreement[name] = {  # largest difference relative to the largest value of each tensor
            "output": ((out - reference_out).abs().max() / reference_out.abs().max()).item(),
            "gradients": max(((a - b).abs().max() / b.abs().max()).item() for a, b in zip(grads, reference_grads)),
        }
        # loose on purpose: cuDNN may use TF32; a wrong gate order or a missing term is off by O(1)
        if max(agreement[name].values()) > 1e-2:
            raise RuntimeError(f"{name} does not compute what nn.LSTM computes: {agreement[name]}")

    times, best = {}, {}
    for name, model in versions.items():
        timer = benchmark.Timer("f(model, x)", globals={"f": _forward_backward, "model": model, "x": x})
        measurement = timer.blocked_autorange(min_run_time=min_run_time)
        times[name], best[name] = measurement.median, min(measurement.times)
    return {
        "benchmark": "one LSTM layer, forward + backward",
        "measured_on": device.type if device.type != "cpu" else "cpu (not the GPU reference number)",
        "device": str(device) if device.type != "cuda" else torch.cuda.get_device_name(device),
        "sizes": {"seq_len": seq_len, "batch": batch, "input_size": input_size, "hidden_size": hidden_size},
        "torch_compile_mode": compile_mode or "default",
        "compile_seconds": compile_seconds,
        "median_ms": {name: t * 1e3 for name, t in times.items()},
        "best_ms": {name: t * 1e3 for name, t in best.items()},
        "ratio_to_nn_lstm": {name: t / times["nn.LSTM"] for name, t in times.items()},
        "relative_difference_from_nn_lstm": agreement,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: rnncourse.runtime.device.get_device())")
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--input-size", type=int, default=256)
    parser.add_argument("--hidden-size", type=int, default=256)
    parser.add_argument("--min-run-time", type=float, default=2.0, help="seconds of timing per version")
    parser.add_argument("--compile-mode", default=None, help="torch.compile mode, e.g. max-autotune-no-cudagraphs")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: the free cores, as the book decides: rnncourse.runtime.threads)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder (default: benchmarks/results)")
    args = parser.parse_args(argv)
    use_threads(args.threads)  # --threads, else the free cores, decided before measuring
    device = get_device(args.device)
    load_before = load_average()
    measured = run(device, args.seq_len, args.batch, args.input_size, args.hidden_size, args.min_run_time,
                   args.compile_mode)
    ratio = measured["ratio_to_nn_lstm"]["hand-written fused"]
    on_gpu = device.type == "cuda"
    summary = [
        summary_row("hand-written fused LSTM / nn.LSTM, forward + backward (median)"
                    + ("" if on_gpu else f", on {device.type}, not the GPU reference"),
                    ratio, "x", "<= 1.5 on a CUDA GPU", ratio <= 1.5 if on_gpu else None),
        summary_row("hand-written LSTM (eager Python loop) / nn.LSTM, forward + backward (median)",
                    measured["ratio_to_nn_lstm"]["hand-written"], "x"),
        summary_row("nn.LSTM forward + backward (median)", measured["median_ms"]["nn.LSTM"], "ms"),
    ]
    result = {**measured, **machine_facts(), "load_average_before": load_before,
              "load_average_after": load_average(), "summary": summary}
    path = write_results(result, args.out, f"bench_cells-{device.type}")
    print(json.dumps(summary, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
